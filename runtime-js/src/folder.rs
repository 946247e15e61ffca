//! An extension from its folder, as the browser loads it unpacked: the manifest, and the
//! background's JavaScript read from the files the manifest names, with the folder's other
//! script files, which modules and `importScripts` may load. Everything is read here, once:
//! the page never reads the disk.

use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use runtime_core::{BackgroundKind, ExtensionSpec, ManifestError};

use crate::html::{self, ScriptKind};
use crate::paths::{self, Target};
use crate::script::{root_path, Entry, JsScript};

/// The largest script file read: 16 MiB. A background page's HTML is read with the same
/// bound.
pub const MAX_SCRIPT_SIZE: u64 = 16 * 1024 * 1024;

/// The most script files (`.js`, `.mjs`) of a folder read for modules and `importScripts`.
pub const MAX_SCRIPT_FILES: usize = 4096;

/// The most bytes of script files of a folder read for modules and `importScripts`: 64 MiB.
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
    /// What the manifest asks for is not simulated yet.
    #[error("{0}")]
    NotSimulated(String),
}

/// The extension in `dir` (unpacked), with its background's own JavaScript: the files of
/// `background.scripts`, in order; the `background.service_worker`, classic or a module
/// (`"type": "module"`); or the `<script src>` elements of the HTML `background.page`. Each file
/// is read only if it is a regular file of at most [`MAX_SCRIPT_SIZE`] inside the folder, and
/// must be UTF-8.
///
/// The folder's other script files (`.js` and `.mjs`, at most [`MAX_SCRIPT_FILES`] of them and
/// [`MAX_SCRIPT_BYTES`] in all) are read too, so that `import`, `import()` and `importScripts`
/// find them; one that cannot be read fails only when a script loads it.
pub fn extension_from_dir(dir: impl AsRef<Path>) -> Result<ExtensionSpec, LoadError> {
    let dir = dir.as_ref();
    let spec = ExtensionSpec::from_dir(dir)?;
    let Some(background) = spec.manifest().background().cloned() else {
        return Ok(spec);
    };
    let mut script = match &background.kind {
        BackgroundKind::Scripts(files) => {
            let mut script: Option<JsScript> = None;
            for file in files {
                let source = read_script(dir, file)?;
                script = Some(match script {
                    None => JsScript::new(file.clone(), source),
                    Some(script) => script.file(file.clone(), source),
                });
            }
            match script {
                Some(script) => script,
                None => return Ok(spec),
            }
        }
        BackgroundKind::ServiceWorker(file) => {
            let source = read_script(dir, file)?;
            let module = spec
                .manifest()
                .raw()
                .get("background")
                .and_then(|b| b.get("type"))
                == Some(&serde_json::Value::from("module"));
            if module {
                JsScript::new_module(file.clone(), source)
            } else {
                JsScript::new(file.clone(), source)
            }
        }
        BackgroundKind::Page(page) => page_script(dir, page)?,
    };
    let (files, stopped) = collect_scripts(dir);
    if let Some(why) = stopped {
        script = script.incomplete(why);
    }
    for (path, file) in files {
        script = match file {
            Ok(source) => script.resource(path, source),
            Err(reason) => script.unreadable(path, reason),
        };
    }
    Ok(spec.script(script))
}

/// The scripts of the background page `page`: its `<script src>` elements, in the order the
/// browser runs them. Inline scripts do not run (extension pages' Content Security Policy
/// forbids them): each is a note in the trace.
fn page_script(dir: &Path, page: &str) -> Result<JsScript, LoadError> {
    let html = read_text(dir, page).map_err(|reason| LoadError::Page {
        path: page.to_owned(),
        reason,
    })?;
    let page_path = root_path(page);
    let (tags, more) = html::scripts(&html);
    let mut entries: Vec<(u8, Entry)> = Vec::new();
    let mut notes = Vec::new();
    if more {
        notes.push(format!(
            "runtime-sim: {page} has more than {} <script> elements; the others are not run",
            html::MAX_PAGE_SCRIPTS
        ));
    }
    for tag in &tags {
        if tag.kind == ScriptKind::NotRun {
            continue;
        }
        let Some(src) = &tag.src else {
            if tag.inline {
                notes.push(format!(
                    "runtime-sim: the inline <script> at {page}:{} is not run: the Content Security Policy of extension pages forbids inline script",
                    tag.line
                ));
            }
            continue;
        };
        // The page's URL is the base of its scripts' (the origin does not matter here: only
        // files of the extension are read).
        let target = paths::resolve("chrome-extension://page", &page_path, src);
        let (name, source) = match &target {
            Target::Here { path, .. } => {
                let name = paths::decode(path).unwrap_or_else(|| path.clone());
                let source = match read_text(dir, &name) {
                    Ok(text) => Ok(Rc::from(text)),
                    Err(_) if !dir.join(&name).exists() => {
                        Err("net::ERR_FILE_NOT_FOUND".to_owned())
                    }
                    Err(reason) => Err(format!("runtime-sim could not read {name}: {reason}")),
                };
                (name, source)
            }
            Target::Elsewhere(url) => {
                notes.push(format!(
                    "runtime-sim: the <script src=\"{url}\"> at {page}:{} is not run: the Content Security Policy of extension pages allows only the extension's own scripts",
                    tag.line
                ));
                continue;
            }
        };
        let entry = Entry {
            name,
            module: tag.kind == ScriptKind::Module,
            source,
        };
        entries.push((tag.phase(), entry));
    }
    // A stable sort: each phase keeps the document's order.
    entries.sort_by_key(|(phase, _)| *phase);
    let mut script = JsScript::empty();
    for (_, entry) in entries {
        script = script.entry(entry);
    }
    for note in notes {
        script = script.note(note);
    }
    Ok(script)
}

/// A file found, by its path from the root: its text, or why it could not be read.
type Found = Vec<(String, Result<String, String>)>;

/// The folder's script files (`.js`, `.mjs`) by their path from the root, read within the
/// bounds; and why a file may be missing when a bound was reached.
fn collect_scripts(dir: &Path) -> (Found, Option<String>) {
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
                .is_some_and(|e| e == "js" || e == "mjs");
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
    let bytes =
        runtime_native::read_regular_file(&path, MAX_SCRIPT_SIZE).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text ({})", e.utf8_error()))
}
