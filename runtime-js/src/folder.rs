//! An extension from its folder, as the browser loads it unpacked: the manifest, and the
//! background's JavaScript read from the files the manifest names, with the folder's other
//! script files, which modules and `importScripts` may load. Everything is read here, once:
//! the page never reads the disk.

use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use runtime_core::{BackgroundKind, ExtensionSpec, ManifestError};

use crate::document;
use crate::script::JsScript;

/// The largest script file read: 16 MiB. A background page's HTML is read with the same
/// bound.
pub const MAX_SCRIPT_SIZE: u64 = 16 * 1024 * 1024;

/// The most script files (`.js`, `.mjs`) and pages (`.html`, `.htm`) of a folder read for
/// modules, `importScripts` and views.
pub const MAX_SCRIPT_FILES: usize = 4096;

/// The most bytes of script and page files of a folder read for modules, `importScripts` and
/// views: 64 MiB.
pub const MAX_SCRIPT_BYTES: u64 = 64 * 1024 * 1024;

/// How deep the folder is searched for script files.
const MAX_DEPTH: usize = 32;

/// The most directories searched.
const MAX_DIRECTORIES: usize = 4096;

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
    /// The background page could not be read: as Chromium says it, and why.
    #[error("Could not load background page '{path}'. ({reason})")]
    Page {
        /// The page's path, as the manifest gives it.
        path: String,
        /// Why it could not be read.
        reason: String,
    },
    /// A content script's file could not be read, as Chromium says it (`Could not load
    /// javascript '<path>' for content script.`, or `Could not load file '<path>' for content
    /// script. It isn't UTF-8 encoded.`).
    #[error("{message}")]
    ContentScript {
        /// The file's path, as the manifest gives it.
        path: String,
        /// The browser's message.
        message: String,
    },
    /// What the manifest asks for is not simulated yet.
    #[error("{0}")]
    NotSimulated(String),
}

/// The extension in `dir` (unpacked), with its own JavaScript: the background's — the files
/// of `background.scripts`, in order; the `background.service_worker`, classic or a module
/// (`"type": "module"`); or the `<script src>` elements of the HTML `background.page` — and
/// that of its content scripts (the `js` files of `content_scripts`) and of its pages (every
/// `.html` file, whose `<script src>` elements run when a view opens on it). Each file is read
/// only if it is a regular file of at most [`MAX_SCRIPT_SIZE`] inside the folder, and must be
/// UTF-8; a content script's file that cannot be read fails the load with Chromium's error.
///
/// The folder's other script files (`.js` and `.mjs`) and pages (`.html`, `.htm`), at most
/// [`MAX_SCRIPT_FILES`] of them and [`MAX_SCRIPT_BYTES`] in all, are read too, so that
/// `import`, `import()`, `importScripts` and views find them; one that cannot be read fails
/// only when a script loads it.
pub fn extension_from_dir(dir: impl AsRef<Path>) -> Result<ExtensionSpec, LoadError> {
    let dir = dir.as_ref();
    let spec = ExtensionSpec::from_dir(dir)?;
    let background = match spec.manifest().background().map(|b| &b.kind) {
        None => None,
        Some(BackgroundKind::Scripts(files)) => {
            let mut script: Option<JsScript> = None;
            for file in files {
                let source = read_script(dir, file)?;
                script = Some(match script {
                    None => JsScript::new(file.clone(), source),
                    Some(script) => script.file(file.clone(), source),
                });
            }
            script
        }
        Some(BackgroundKind::ServiceWorker(file)) => {
            let source = read_script(dir, file)?;
            let module = spec
                .manifest()
                .raw()
                .get("background")
                .and_then(|b| b.get("type"))
                == Some(&serde_json::Value::from("module"));
            Some(if module {
                JsScript::new_module(file.clone(), source)
            } else {
                JsScript::new(file.clone(), source)
            })
        }
        Some(BackgroundKind::Page(page)) => Some(page_script(dir, page)?),
    };
    let has_background = background.is_some();
    let mut script = background.unwrap_or_else(JsScript::files_only);
    let found = collect_files(dir);
    if let Some(why) = found.stopped {
        script = script.incomplete(why);
    }
    for (path, file) in found.scripts {
        script = match file {
            Ok(source) => script.resource(path, source),
            Err(reason) => script.unreadable(path, reason),
        };
    }
    for (path, file) in found.pages {
        if let Ok(html) = file {
            script = script.page(path, html);
        }
    }
    // Content scripts' files are read whatever the bounds, and must be there.
    for entry in spec.manifest().content_scripts_js() {
        let source = read_content_script(dir, &entry)?;
        script = script.resource(entry, source);
    }
    if has_background {
        Ok(script.attach(spec))
    } else {
        // A background whose script list is empty has no script: installing it says so.
        Ok(spec.context_script(script.contexts()))
    }
}

/// A content script's file, or Chromium's error for it.
fn read_content_script(dir: &Path, file: &str) -> Result<String, LoadError> {
    let bytes = read_bytes(dir, file).map_err(|_| LoadError::ContentScript {
        path: file.to_owned(),
        message: format!("Could not load javascript '{file}' for content script."),
    })?;
    String::from_utf8(bytes).map_err(|_| LoadError::ContentScript {
        path: file.to_owned(),
        message: format!(
            "Could not load file '{file}' for content script. It isn't UTF-8 encoded."
        ),
    })
}

/// The scripts of the background page `page`: its `<script src>` elements, in the order the
/// browser runs them. Inline scripts do not run (extension pages' Content Security Policy
/// forbids them): each is a note in the trace.
fn page_script(dir: &Path, page: &str) -> Result<JsScript, LoadError> {
    let html = read_text(dir, page).map_err(|reason| LoadError::Page {
        path: page.to_owned(),
        reason,
    })?;
    let found = document::page_scripts(page, &html, |name| match read_text(dir, name) {
        Ok(text) => Ok(Rc::from(text)),
        Err(_) if !dir.join(name).exists() => Err("net::ERR_FILE_NOT_FOUND".to_owned()),
        Err(reason) => Err(format!("runtime-sim could not read {name}: {reason}")),
    });
    let mut script = JsScript::empty();
    for entry in found.entries {
        script = script.entry(entry);
    }
    for note in found.notes {
        script = script.note(note);
    }
    Ok(script)
}

/// Files found, by their path from the root: their text, or why they could not be read.
type Found = Vec<(String, Result<String, String>)>;

/// What [`collect_files`] found.
struct Collected {
    scripts: Found,
    pages: Found,
    /// Why a file may be missing, when a bound was reached.
    stopped: Option<String>,
}

/// The folder's script files (`.js`, `.mjs`) and pages (`.html`, `.htm`) by their path from
/// the root, read within the bounds.
fn collect_files(dir: &Path) -> Collected {
    let (found, stopped) = collect(dir);
    let (pages, scripts) = found
        .into_iter()
        .partition(|(path, _)| path.ends_with(".html") || path.ends_with(".htm"));
    Collected {
        scripts,
        pages,
        stopped,
    }
}

/// The folder's script and page files, read within the bounds; and why a file may be missing
/// when a bound was reached.
fn collect(dir: &Path) -> (Found, Option<String>) {
    let mut found = Vec::new();
    let Ok(root) = dir.canonicalize() else {
        return (found, None);
    };
    let mut stack: Vec<(PathBuf, usize)> = vec![(root.clone(), 0)];
    let mut directories = 0;
    let mut bytes: u64 = 0;
    let mut stopped: Option<String> = None;
    while let Some((directory, depth)) = stack.pop() {
        directories += 1;
        if directories > MAX_DIRECTORIES {
            stopped = Some(format!(
                "runtime-sim searched only {MAX_DIRECTORIES} of the extension's folders"
            ));
            break;
        }
        let Ok(read) = std::fs::read_dir(&directory) else {
            continue;
        };
        let mut names: Vec<_> = read.filter_map(Result::ok).collect();
        // The same files in the same order on every machine.
        names.sort_by_key(|e| e.file_name());
        for item in names.iter().rev() {
            let path = item.path();
            let Ok(kind) = item.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if depth + 1 < MAX_DEPTH {
                    stack.push((path, depth + 1));
                }
                continue;
            }
            let script_file = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "js" | "mjs" | "html" | "htm"));
            if !script_file {
                continue;
            }
            let Some(relative) = path
                .strip_prefix(&root)
                .ok()
                .and_then(|r| r.to_str())
                .map(|r| r.replace(std::path::MAIN_SEPARATOR, "/"))
            else {
                continue;
            };
            if found.len() >= MAX_SCRIPT_FILES {
                stopped = Some(format!(
                    "runtime-sim read only {MAX_SCRIPT_FILES} of the extension's script files"
                ));
                break;
            }
            let size = item.metadata().map(|m| m.len()).unwrap_or(0);
            if bytes.saturating_add(size.min(MAX_SCRIPT_SIZE)) > MAX_SCRIPT_BYTES {
                found.push((
                    relative,
                    Err(format!(
                        "not read: the extension's script files pass runtime-sim's bound of {MAX_SCRIPT_BYTES} bytes"
                    )),
                ));
                continue;
            }
            let file = read_text(&root, &relative);
            if let Ok(text) = &file {
                bytes += text.len() as u64;
            }
            found.push((relative, file));
        }
        if stopped.is_some() {
            break;
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    (found, stopped)
}

fn read_script(dir: &Path, file: &str) -> Result<String, LoadError> {
    read_text(dir, file).map_err(|reason| LoadError::Script {
        path: file.to_owned(),
        reason,
    })
}

/// The text of the file at `file` (a path from the root of `dir`): a regular file of at most
/// [`MAX_SCRIPT_SIZE`], inside the folder (also once symbolic links are followed), in UTF-8.
fn read_text(dir: &Path, file: &str) -> Result<String, String> {
    let bytes = read_bytes(dir, file)?;
    String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text ({})", e.utf8_error()))
}

/// The bytes of the file at `file` (a path from the root of `dir`): a regular file of at most
/// [`MAX_SCRIPT_SIZE`], inside the folder (also once symbolic links are followed).
fn read_bytes(dir: &Path, file: &str) -> Result<Vec<u8>, String> {
    let relative = PathBuf::from(file.trim_start_matches('/'));
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err("the path leaves the extension's folder".to_owned());
    }
    let path = dir.join(&relative);
    if let (Ok(root), Ok(real)) = (dir.canonicalize(), path.canonicalize()) {
        if !real.starts_with(&root) {
            return Err("the path leaves the extension's folder".to_owned());
        }
    }
    runtime_native::read_regular_file(&path, MAX_SCRIPT_SIZE).map_err(|e| e.to_string())
}
