//! Loading a scenario file: reading it, deserializing it with the JSON path of any error,
//! checking it, and making its extensions.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::Value;

use super::error::ScenarioError;
use super::format::{InstallLocation, ManifestSource, Scenario};
use super::ids::Ids;
use super::position::JsonPath;
use super::validate::Checker;
use crate::{ExtensionId, ExtensionSpec, Location};

/// A scenario file, read and checked: ready to run.
pub struct Loaded {
    /// The file, as it was named.
    pub file: PathBuf,
    /// Its text (to place the errors of a run).
    pub text: String,
    /// What it says.
    pub scenario: Scenario,
    /// Its extensions' ids, by name.
    pub ids: Ids,
    /// Its extensions, by name, without their background scripts (a run adds them).
    pub(crate) specs: IndexMap<String, ExtensionSpec>,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("file", &self.file)
            .field("scenario", &self.scenario)
            .field("ids", &self.ids)
            .finish_non_exhaustive()
    }
}

/// Reads and checks a scenario file.
pub fn load(file: &Path) -> Result<Loaded, ScenarioError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| ScenarioError::file(file, format!("cannot read the file: {e}")))?;
    load_str(file, text)
}

/// Checks a scenario given as text; `file` names it in errors, and manifests given as paths
/// are found relative to its folder.
pub fn load_str(file: &Path, text: String) -> Result<Loaded, ScenarioError> {
    let scenario = parse(file, &text)?;
    Checker::new(file, &text, &scenario).check()?;
    let (ids, specs) = extensions(file, &text, &scenario)?;
    Ok(Loaded {
        file: file.to_path_buf(),
        text,
        scenario,
        ids,
        specs,
    })
}

/// Deserializes the file; an error names the JSON path, the line and the column.
fn parse(file: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let error = |e: &serde_json::Error, path: JsonPath| ScenarioError {
        file: file.to_path_buf(),
        path,
        position: Some((e.line(), e.column())),
        message: without_position(e),
    };
    let scenario: Scenario = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| error(e.inner(), JsonPath::from_serde(e.path())))?;
    deserializer
        .end()
        .map_err(|e| error(&e, JsonPath::root()))?;
    Ok(scenario)
}

/// A serde_json error's message without the ` at line L column C` it ends with.
fn without_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = message.strip_suffix(&suffix).unwrap_or(&message);
    match error.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("not valid JSON: {message}")
        }
        _ => message.to_owned(),
    }
}

/// Makes the extensions: their ids first (from each manifest's `key`, else its name or path),
/// then their manifests with `${id:NAME}` filled in.
fn extensions(
    file: &Path,
    text: &str,
    scenario: &Scenario,
) -> Result<(Ids, IndexMap<String, ExtensionSpec>), ScenarioError> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let at = |name: &str| JsonPath::root().key("extensions").key(name);
    let error = |path: JsonPath, message: String| ScenarioError::at(file, text, path, message);

    // While the ids themselves are worked out, one id stands for every `${id:NAME}`.
    let mut stand_ins = Ids::default();
    for name in scenario.extensions.keys() {
        stand_ins.insert(name, ExtensionId::from_bytes(b"a stand-in"));
    }
    let mut ids = Ids::default();
    let mut first: Vec<(String, ExtensionSpec)> = Vec::new();
    for (name, extension) in &scenario.extensions {
        let path = at(name).key("manifest");
        let spec = match &extension.manifest {
            ManifestSource::Inline(manifest) => {
                let stand_in = stand_ins.expand(&Value::Object(manifest.clone()));
                ExtensionSpec::from_json(stand_in)
                    .map_err(|e| error(path.clone(), format!("invalid manifest: {e}")))?
            }
            ManifestSource::Path(relative) => {
                let full = dir.join(relative);
                ExtensionSpec::from_path(&full)
                    .map_err(|e| error(path.clone(), format!("cannot load the manifest: {e}")))?
            }
        };
        if let Some(other) = ids.name_of(&spec.id()) {
            return Err(error(
                path,
                format!(
                    "this extension has the same id as \"{other}\" ({}): give it another name, key or path",
                    spec.id()
                ),
            ));
        }
        ids.insert(name, spec.id());
        first.push((name.clone(), spec));
    }

    let mut specs = IndexMap::new();
    for (name, spec) in first {
        let extension = &scenario.extensions[&name];
        let spec = match &extension.manifest {
            ManifestSource::Inline(manifest) => {
                let filled = ids.expand(&Value::Object(manifest.clone()));
                let spec = ExtensionSpec::from_json(filled).map_err(|e| {
                    error(at(&name).key("manifest"), format!("invalid manifest: {e}"))
                })?;
                if Some(&spec.id()) != ids.get(&name) {
                    return Err(error(
                        at(&name).key("manifest"),
                        "${id:…} cannot be used in a manifest's \"name\" or \"key\": they make the extension's own id".to_owned(),
                    ));
                }
                spec
            }
            ManifestSource::Path(_) => spec,
        };
        let spec = spec.location(match extension.location {
            InstallLocation::Unpacked => Location::Unpacked,
            InstallLocation::Packed => Location::Packed,
            InstallLocation::CommandLine => Location::CommandLine,
        });
        let has_page = spec.manifest().background().is_some();
        match (&extension.background, has_page) {
            (None, true) => {
                return Err(error(
                    at(&name),
                    "the manifest has a background page, so the extension needs its code: \"background\": {\"top_level\": [...]} or {\"rust\": \"NAME\"}".to_owned(),
                ))
            }
            (Some(_), false) => {
                return Err(error(
                    at(&name).key("background"),
                    "the manifest has no \"background\", so the extension has no background page to run this code; add \"background\": {\"scripts\": [\"background.js\"], \"persistent\": false} to the manifest".to_owned(),
                ))
            }
            _ => {}
        }
        specs.insert(name, spec);
    }
    Ok((ids, specs))
}
