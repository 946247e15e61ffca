//! Loading a scenario file: reading it, deserializing it with the JSON path of any error,
//! checking it, and making its extensions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::Value;

use super::error::ScenarioError;
use super::format::{BackgroundCode, ManifestSource, Scenario};
use super::ids::Ids;
use super::position::JsonPath;
use super::step::Step;
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
    /// The new versions its `publish_update` steps publish, by the step's index in the
    /// timeline, without their background scripts.
    pub(crate) updates: BTreeMap<usize, ExtensionSpec>,
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

/// The largest scenario file read: 16 MiB. A hand-written scenario is a few kilobytes; a
/// generated one with tens of thousands of steps fits. A larger file is refused at once, before
/// it is read, as is anything that is not a regular file (a FIFO, a device such as `/dev/zero`).
pub const MAX_SCENARIO_SIZE: u64 = 16 * 1024 * 1024;

/// Reads and checks a scenario file: only a regular file of at most [`MAX_SCENARIO_SIZE`]
/// bytes.
pub fn load(file: &Path) -> Result<Loaded, ScenarioError> {
    let cannot_read =
        |reason: String| ScenarioError::file(file, format!("cannot read the file: {reason}"));
    let bytes = crate::native::read_regular_file(file, MAX_SCENARIO_SIZE)
        .map_err(|e| cannot_read(e.to_string()))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| cannot_read(format!("it is not UTF-8 text ({})", e.utf8_error())))?;
    load_str(file, text)
}

/// Checks a scenario given as text; `file` names it in errors, and manifests given as paths
/// are found relative to its folder.
pub fn load_str(file: &Path, text: String) -> Result<Loaded, ScenarioError> {
    let scenario = parse(file, &text)?;
    Checker::new(file, &text, &scenario).check()?;
    let (ids, specs) = extensions(file, &text, &scenario)?;
    let updates = updates(file, &text, &scenario, &ids)?;
    Ok(Loaded {
        file: file.to_path_buf(),
        text,
        scenario,
        ids,
        specs,
        updates,
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
                if extension.background.is_none() {
                    // No code in the scenario: the extension runs its own JavaScript.
                    let folder = if full.is_dir() {
                        full.clone()
                    } else {
                        full.parent().map(Path::to_path_buf).unwrap_or_default()
                    };
                    runtime_js::extension_from_dir(&folder).map_err(|e| {
                        let what = match e {
                            runtime_js::LoadError::Manifest(_) => "the manifest",
                            _ => "the extension",
                        };
                        error(path.clone(), format!("cannot load {what}: {e}"))
                    })?
                } else {
                    ExtensionSpec::from_path(&full).map_err(|e| {
                        error(path.clone(), format!("cannot load the manifest: {e}"))
                    })?
                }
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
        let spec = spec.location(extension.location);
        let own_javascript = matches!(extension.manifest, ManifestSource::Path(_));
        if !own_javascript || extension.background.is_some() {
            has_its_code(&spec, extension.background.as_ref(), &at(&name))
                .map_err(|(path, message)| error(path, message.to_owned()))?;
        }
        specs.insert(name, spec);
    }
    Ok((ids, specs))
}

/// Checks that an extension (or a new version of one) has background code exactly when its
/// manifest has a background page; `at` is where the manifest and the code are declared.
fn has_its_code(
    spec: &ExtensionSpec,
    code: Option<&BackgroundCode>,
    at: &JsonPath,
) -> Result<(), (JsonPath, &'static str)> {
    match (code, spec.manifest().background().is_some()) {
        (None, true) => Err((
            at.clone(),
            "the manifest has a background page, so the extension needs its code: \"background\": {\"top_level\": [...]} or {\"rust\": \"NAME\"}",
        )),
        (Some(_), false) => Err((
            at.key("background"),
            "the manifest has no \"background\", so the extension has no background page to run this code; add \"background\": {\"scripts\": [\"background.js\"], \"persistent\": false} to the manifest",
        )),
        _ => Ok(()),
    }
}

/// Makes the new versions that `publish_update` steps publish, by the step's index. A new
/// version keeps the extension's id: a `key` in its manifest must give that same id.
fn updates(
    file: &Path,
    text: &str,
    scenario: &Scenario,
    ids: &Ids,
) -> Result<BTreeMap<usize, ExtensionSpec>, ScenarioError> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let error = |path: JsonPath, message: String| ScenarioError::at(file, text, path, message);
    let mut updates = BTreeMap::new();
    for (index, step) in scenario.timeline.iter().enumerate() {
        let Step::PublishUpdate(publish) = step else {
            continue;
        };
        let at = JsonPath::root()
            .key("timeline")
            .index(index)
            .key("publish_update");
        let spec = match &publish.manifest {
            ManifestSource::Inline(manifest) => {
                ExtensionSpec::from_json(ids.expand(&Value::Object(manifest.clone())))
                    .map_err(|e| error(at.key("manifest"), format!("invalid manifest: {e}")))?
            }
            ManifestSource::Path(relative) => ExtensionSpec::from_path(dir.join(relative))
                .map_err(|e| error(at.key("manifest"), format!("cannot load the manifest: {e}")))?,
        };
        let own = ids.get(&publish.extension);
        if spec.manifest().key().is_some() && own.is_some_and(|own| *own != spec.id()) {
            return Err(error(
                at.key("manifest"),
                format!(
                    "the new version's \"key\" gives the id {}, but an update keeps the extension's id ({}): give it the extension's own key, or none",
                    spec.id(),
                    own.map(ToString::to_string).unwrap_or_default()
                ),
            ));
        }
        has_its_code(&spec, publish.background.as_ref(), &at)
            .map_err(|(path, message)| error(path, message.to_owned()))?;
        updates.insert(index, spec.location(Location::Packed));
    }
    Ok(updates)
}
