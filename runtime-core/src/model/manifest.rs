//! `manifest.json`: parsing, the fields the simulator uses, and errors that name the field.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::model::manifest_text::ManifestText;
use crate::model::match_pattern::MatchPattern;

/// Why a manifest was refused. The `Display` follows Chromium's `manifest_errors.cc` wording,
/// which names the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read: it is missing, is not a regular file (a FIFO, a device
    /// such as `/dev/zero`, a folder), or is larger than [`Manifest::MAX_FILE_SIZE`]. Chromium's
    /// error (`IDS_EXTENSION_MANIFEST_UNREADABLE`) comes first, then the file and the reason.
    #[error("Manifest file is missing or unreadable ({path}: {reason})")]
    Unreadable {
        /// The file that was read.
        path: String,
        /// What is wrong with it: what the operating system said, what kind of file it is, or
        /// its size beside the limit.
        reason: String,
    },
    /// The text is not JSON (comments, as Chromium allows them, are accepted).
    #[error("Manifest is not valid JSON. Line: {line}, column: {column}, {reason}")]
    NotJson {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What is wrong there.
        reason: String,
    },
    /// The top level is not an object.
    #[error("Manifest is not a JSON object.")]
    NotAnObject,
    /// A required field is absent or has the wrong type.
    #[error("Required value '{field}' is missing or invalid.{hint}")]
    Required {
        /// The field, e.g. `name`.
        field: &'static str,
        /// Extra explanation ("" when none), starting with a space.
        hint: &'static str,
    },
    /// A field has the wrong type or value.
    #[error("Invalid value for '{field}'.")]
    Invalid {
        /// The field's path, e.g. `background.persistent` or `permissions[2]`.
        field: String,
    },
    /// `background.page` and `background.scripts` are both present.
    #[error(
        "The background.page and background.scripts properties cannot be used at the same time."
    )]
    BackgroundPageAndScripts,
    /// A URL match pattern is malformed or not allowed where it is.
    #[error("Invalid value for '{field}': {reason}")]
    InvalidPattern {
        /// The field's path, e.g. `content_scripts[0].matches[1]`.
        field: String,
        /// What is wrong with the pattern.
        reason: String,
    },
    /// A manifest feature the simulator does not model yet.
    #[error("'{field}' is not supported by this simulator: {reason}")]
    Unsupported {
        /// The field.
        field: &'static str,
        /// Why, and what to use instead.
        reason: &'static str,
    },
}

impl ManifestError {
    /// The field the error is about, when it is about one.
    pub fn field(&self) -> Option<String> {
        match self {
            ManifestError::Required { field, .. } | ManifestError::Unsupported { field, .. } => {
                Some((*field).to_owned())
            }
            ManifestError::Invalid { field } | ManifestError::InvalidPattern { field, .. } => {
                Some(field.clone())
            }
            ManifestError::BackgroundPageAndScripts => Some("background".to_owned()),
            _ => None,
        }
    }
}

fn invalid(field: impl Into<String>) -> ManifestError {
    ManifestError::Invalid {
        field: field.into(),
    }
}

/// What runs in the background of an extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackgroundKind {
    /// `background.scripts`: the browser generates the page (`_generated_background_page.html`).
    Scripts(Vec<String>),
    /// `background.page`: an HTML page of the extension.
    Page(String),
    /// `background.service_worker` (Manifest V3): a service worker script.
    ServiceWorker(String),
}

/// The `background` key of an extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Background {
    /// Scripts or a page.
    pub kind: BackgroundKind,
    /// `persistent`: `true` (the Manifest V2 default) for a persistent background page, `false`
    /// for an event page. Always `false` for Manifest V3.
    pub persistent: bool,
}

impl Background {
    /// The path of the background page inside the extension.
    pub fn page_path(&self) -> &str {
        match &self.kind {
            BackgroundKind::Scripts(_) => "_generated_background_page.html",
            BackgroundKind::Page(page) | BackgroundKind::ServiceWorker(page) => page,
        }
    }
}

/// A parsed and checked `manifest.json`.
///
/// [`Manifest::raw`] gives the whole object (`runtime.getManifest()` returns it; it is kept as
/// its text and parsed again when first asked for); the fields the simulator acts on are read
/// and checked once, here.
///
/// ```
/// use runtime_core::Manifest;
///
/// let manifest = Manifest::from_json_str(r#"{
///     // Chromium accepts comments in manifests.
///     "name": "Hello", "version": "1.0", "manifest_version": 2,
///     "background": { "scripts": ["bg.js"], "persistent": false }
/// }"#).unwrap();
/// assert!(!manifest.background().unwrap().persistent);
///
/// let err = Manifest::from_json_str(r#"{"name": "x", "version": "1",
///     "background": {"persistent": "no"}}"#).unwrap_err();
/// assert_eq!(err.to_string(), "Invalid value for 'background.persistent'.");
/// ```
#[derive(Debug, Clone)]
pub struct Manifest {
    raw: Arc<ManifestText>,
    name: String,
    version: String,
    manifest_version: u64,
    background: Option<Background>,
    key: Option<String>,
    permissions: Vec<String>,
    options_page: Option<String>,
    externally_connectable: Option<ExternallyConnectable>,
    content_scripts: Vec<ContentScript>,
}

/// `externally_connectable`: who outside the extension may message it or connect to it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExternallyConnectable {
    /// `ids`: extensions that may connect; `"*"` allows every extension.
    pub ids: Vec<String>,
    /// `matches`: web pages that may connect (no wildcard hosts).
    pub matches: Vec<MatchPattern>,
    /// `accepts_tls_channel_id`: whether `sender.tlsChannelId` is passed.
    pub accepts_tls_channel_id: bool,
}

impl ExternallyConnectable {
    /// Whether the extension `id` may connect.
    pub fn allows_extension(&self, id: &str) -> bool {
        self.ids
            .iter()
            .any(|allowed| allowed == "*" || allowed == id)
    }

    /// Whether a web page at `url` may connect.
    pub fn allows_page(&self, url: &str) -> bool {
        self.matches.iter().any(|p| p.matches(url))
    }
}

/// One entry of `content_scripts`: where the extension's content scripts run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentScript {
    /// `matches`: the pages it runs in.
    pub matches: Vec<MatchPattern>,
    /// `exclude_matches`: pages it does not run in.
    pub exclude_matches: Vec<MatchPattern>,
    /// `all_frames`: also in child frames (default: the top frame only).
    pub all_frames: bool,
}

impl ContentScript {
    /// Whether it runs in a frame showing `url` (`top`: the tab's top frame).
    pub fn runs_in(&self, url: &str, top: bool) -> bool {
        (top || self.all_frames)
            && self.matches.iter().any(|p| p.matches(url))
            && !self.exclude_matches.iter().any(|p| p.matches(url))
    }
}

impl Manifest {
    /// Parses manifest text. `//` and `/* */` comments are allowed, as Chromium allows them.
    pub fn from_json_str(text: &str) -> Result<Manifest, ManifestError> {
        let cleaned = strip_comments(text);
        let value: Value = serde_json::from_str(&cleaned).map_err(|e| ManifestError::NotJson {
            line: e.line(),
            column: e.column(),
            reason: e
                .to_string()
                .split(" at line")
                .next()
                .unwrap_or("")
                .to_owned(),
        })?;
        Manifest::from_value(value)
    }

    /// The largest `manifest.json` read: 4 MiB. A manifest is a few kilobytes, seldom a few
    /// hundred; Chromium sets no limit of its own. A larger file is
    /// [`ManifestError::Unreadable`] at once, before it is read.
    pub const MAX_FILE_SIZE: u64 = 4 * 1024 * 1024;

    /// Reads `manifest.json` from a file: only a regular file of at most
    /// [`MAX_FILE_SIZE`](Self::MAX_FILE_SIZE) bytes. A missing file, a FIFO, a device (such as
    /// `/dev/zero`), a folder or a larger file is [`ManifestError::Unreadable`] at once, without
    /// blocking and without reading it.
    pub fn from_file(path: &Path) -> Result<Manifest, ManifestError> {
        let unreadable = |reason: String| ManifestError::Unreadable {
            path: path.display().to_string(),
            reason,
        };
        let bytes = runtime_native::read_regular_file(path, Manifest::MAX_FILE_SIZE)
            .map_err(|e| unreadable(e.to_string()))?;
        let text = String::from_utf8(bytes)
            .map_err(|e| unreadable(format!("not UTF-8 text ({})", e.utf8_error())))?;
        Manifest::from_json_str(&text)
    }

    /// Checks a manifest given as a JSON value.
    pub fn from_value(value: Value) -> Result<Manifest, ManifestError> {
        let Value::Object(raw) = value else {
            return Err(ManifestError::NotAnObject);
        };
        let name = match raw.get("name") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            _ => {
                return Err(ManifestError::Required {
                    field: "name",
                    hint: "",
                })
            }
        };
        let version =
            match raw.get("version") {
                Some(Value::String(s)) if is_valid_version(s) => s.clone(),
                _ => return Err(ManifestError::Required {
                    field: "version",
                    hint:
                        " It must be between 1-4 dot-separated integers each between 0 and 65536.",
                }),
            };
        let manifest_version = match raw.get("manifest_version") {
            None => 2,
            Some(v) => match v.as_u64() {
                Some(n @ 1..=3) => n,
                _ => return Err(invalid("manifest_version")),
            },
        };
        let key = match raw.get("key") {
            None => None,
            Some(Value::String(s)) => {
                crate::model::extension_id::ExtensionId::from_key(s).map_err(|_| invalid("key"))?;
                Some(s.clone())
            }
            Some(_) => return Err(invalid("key")),
        };
        let permissions = string_list(raw.get("permissions"), "permissions")?;
        let background = parse_background(raw.get("background"), manifest_version)?;
        let options_ui_page = match raw.get("options_ui") {
            None => None,
            Some(Value::Object(ui)) => match ui.get("page") {
                Some(Value::String(p)) if !p.is_empty() => Some(p.clone()),
                _ => return Err(invalid("options_ui.page")),
            },
            Some(_) => return Err(invalid("options_ui")),
        };
        let options_page = match raw.get("options_page") {
            None => None,
            Some(Value::String(p)) if !p.is_empty() => Some(p.clone()),
            Some(_) => return Err(invalid("options_page")),
        };
        let externally_connectable =
            parse_externally_connectable(raw.get("externally_connectable"))?;
        let content_scripts = parse_content_scripts(raw.get("content_scripts"))?;
        Ok(Manifest {
            raw: Arc::new(ManifestText::new(raw)),
            name,
            version,
            manifest_version,
            background,
            key,
            permissions,
            // Chromium prefers options_ui.page over options_page.
            options_page: options_ui_page.or(options_page),
            externally_connectable,
            content_scripts,
        })
    }

    /// The whole manifest object, as `runtime.getManifest()` returns it.
    pub fn raw(&self) -> &Map<String, Value> {
        self.raw.object()
    }

    /// The whole manifest as a JSON value.
    pub fn to_value(&self) -> Value {
        Value::Object(self.raw().clone())
    }

    /// `name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `version`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// `manifest_version` (2 when absent).
    pub fn manifest_version(&self) -> u64 {
        self.manifest_version
    }

    /// `background`, if the extension has a background page.
    pub fn background(&self) -> Option<&Background> {
        self.background.as_ref()
    }

    /// `key`, the base64 public key that fixes the extension's id.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// `permissions`.
    pub fn permissions(&self) -> &[String] {
        &self.permissions
    }

    /// Whether `permissions` lists `permission`.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    /// Whether the extension has a host permission for `url`: one of the match patterns of its
    /// `permissions` or `host_permissions` matches it (`<all_urls>` too).
    pub fn has_host_permission(&self, url: &str) -> bool {
        let hosts = self
            .raw()
            .get("host_permissions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str);
        self.permissions
            .iter()
            .map(String::as_str)
            .chain(hosts)
            .filter_map(|p| MatchPattern::parse(p).ok())
            .any(|p| p.matches(url))
    }

    /// The options page: `options_ui.page`, else `options_page`.
    pub fn options_page(&self) -> Option<&str> {
        self.options_page.as_deref()
    }

    /// `externally_connectable`, when present.
    pub fn externally_connectable(&self) -> Option<&ExternallyConnectable> {
        self.externally_connectable.as_ref()
    }

    /// `content_scripts`.
    pub fn content_scripts(&self) -> &[ContentScript] {
        &self.content_scripts
    }

    /// The `js` files of every entry of `content_scripts`, in the manifest's order, each once.
    pub fn content_scripts_js(&self) -> Vec<String> {
        let mut files: Vec<String> = Vec::new();
        let entries = self.raw().get("content_scripts").and_then(Value::as_array);
        for entry in entries.into_iter().flatten() {
            let js = entry.get("js").and_then(Value::as_array);
            for file in js.into_iter().flatten().filter_map(Value::as_str) {
                if !files.iter().any(|f| f == file) {
                    files.push(file.to_owned());
                }
            }
        }
        files
    }

    /// Whether the extension `id` may message or connect to this one (§4.4): every extension
    /// may when `externally_connectable` is absent; otherwise only those its `ids` list.
    pub fn accepts_extension(&self, id: &str) -> bool {
        self.externally_connectable
            .as_ref()
            .is_none_or(|ec| ec.allows_extension(id))
    }

    /// Whether a web page at `url` may message or connect to this extension: only when
    /// `externally_connectable.matches` matches it.
    pub fn accepts_page(&self, url: &str) -> bool {
        self.externally_connectable
            .as_ref()
            .is_some_and(|ec| ec.allows_page(url))
    }

    /// Firefox's add-on id: `browser_specific_settings.gecko.id` (or the older
    /// `applications.gecko.id`).
    pub fn gecko_id(&self) -> Option<&str> {
        ["browser_specific_settings", "applications"]
            .iter()
            .find_map(|key| self.raw().get(*key)?.get("gecko")?.get("id")?.as_str())
    }

    /// Whether this extension is a shared module: its manifest has an `export` key.
    pub fn is_shared_module(&self) -> bool {
        self.raw().contains_key("export")
    }

    /// The ids of the shared modules this extension imports (`import: [{id, …}]`).
    pub fn imports(&self) -> Vec<String> {
        self.raw()
            .get("import")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item.get("id").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn string_list(value: Option<&Value>, field: &str) -> Result<Vec<String>, ManifestError> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(format!("{field}[{i}]")))
            })
            .collect(),
        Some(_) => Err(invalid(field)),
    }
}

fn pattern_list(
    value: Option<&Value>,
    field: &str,
    refuse_wildcard_hosts: bool,
) -> Result<Vec<MatchPattern>, ManifestError> {
    string_list(value, field)?
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let field = format!("{field}[{i}]");
            let pattern = MatchPattern::parse(text).map_err(|e| ManifestError::InvalidPattern {
                field: field.clone(),
                reason: e.to_string(),
            })?;
            if refuse_wildcard_hosts && pattern.has_wildcard_host() {
                return Err(ManifestError::InvalidPattern {
                    field,
                    reason: "Wildcard domain patterns are not allowed in externally_connectable."
                        .into(),
                });
            }
            Ok(pattern)
        })
        .collect()
}

fn parse_externally_connectable(
    value: Option<&Value>,
) -> Result<Option<ExternallyConnectable>, ManifestError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let Value::Object(ec) = value else {
        return Err(invalid("externally_connectable"));
    };
    let ids = string_list(ec.get("ids"), "externally_connectable.ids")?;
    for (i, id) in ids.iter().enumerate() {
        if id != "*" && !crate::model::extension_id::ExtensionId::is_valid(id) {
            return Err(invalid(format!("externally_connectable.ids[{i}]")));
        }
    }
    let matches = pattern_list(ec.get("matches"), "externally_connectable.matches", true)?;
    let accepts_tls_channel_id = match ec.get("accepts_tls_channel_id") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("externally_connectable.accepts_tls_channel_id")),
    };
    Ok(Some(ExternallyConnectable {
        ids,
        matches,
        accepts_tls_channel_id,
    }))
}

fn parse_content_scripts(value: Option<&Value>) -> Result<Vec<ContentScript>, ManifestError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = value else {
        return Err(invalid("content_scripts"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let Value::Object(cs) = item else {
                return Err(invalid(format!("content_scripts[{i}]")));
            };
            let matches = pattern_list(
                cs.get("matches"),
                &format!("content_scripts[{i}].matches"),
                false,
            )?;
            if matches.is_empty() {
                return Err(invalid(format!("content_scripts[{i}].matches")));
            }
            let exclude_matches = pattern_list(
                cs.get("exclude_matches"),
                &format!("content_scripts[{i}].exclude_matches"),
                false,
            )?;
            let all_frames = match cs.get("all_frames") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(invalid(format!("content_scripts[{i}].all_frames"))),
            };
            Ok(ContentScript {
                matches,
                exclude_matches,
                all_frames,
            })
        })
        .collect()
}

fn parse_background(
    value: Option<&Value>,
    manifest_version: u64,
) -> Result<Option<Background>, ManifestError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let Value::Object(bg) = value else {
        return Err(invalid("background"));
    };
    if let Some(worker) = bg.get("service_worker") {
        return match worker {
            Value::String(script) if !script.is_empty() => Ok(Some(Background {
                kind: BackgroundKind::ServiceWorker(script.clone()),
                persistent: false,
            })),
            _ => Err(invalid("background.service_worker")),
        };
    }
    let persistent = match bg.get("persistent") {
        // Manifest V3 has no persistent pages (Firefox runs its `scripts` as event pages).
        _ if manifest_version >= 3 => false,
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("background.persistent")),
    };
    let kind = match (bg.get("scripts"), bg.get("page")) {
        (Some(_), Some(_)) => return Err(ManifestError::BackgroundPageAndScripts),
        (Some(Value::Array(scripts)), None) => BackgroundKind::Scripts(
            scripts
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    s.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| invalid(format!("background.scripts[{i}]")))
                })
                .collect::<Result<_, _>>()?,
        ),
        (Some(_), None) => return Err(invalid("background.scripts")),
        (None, Some(Value::String(page))) if !page.is_empty() => BackgroundKind::Page(page.clone()),
        (None, Some(_)) => return Err(invalid("background.page")),
        (None, None) => return Err(invalid("background")),
    };
    Ok(Some(Background { kind, persistent }))
}

/// Chromium's version rule: 1 to 4 dot-separated integers, each from 0 to 65535, no leading
/// zeros (except `0` itself).
fn is_valid_version(version: &str) -> bool {
    let parts: Vec<&str> = version.split('.').collect();
    (1..=4).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 5
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u32>().is_ok_and(|n| n <= 65535)
        })
}

/// Replaces `//` and `/* */` comments outside strings with spaces, keeping line breaks, so that
/// JSON errors still point at the right line and column.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => {
                    if let Some(next) = chars.next() {
                        out.push(next);
                    }
                }
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                out.push_str("  ");
                chars.next();
                while let Some(&n) = chars.peek() {
                    if n == '\n' {
                        break;
                    }
                    out.push(' ');
                    chars.next();
                }
            }
            ('/', Some('*')) => {
                out.push_str("  ");
                chars.next();
                let mut last = '\0';
                for n in chars.by_ref() {
                    out.push(if n == '\n' { '\n' } else { ' ' });
                    if last == '*' && n == '/' {
                        break;
                    }
                    last = n;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::from_json_str(text)
    }

    #[test]
    fn comments_are_allowed_and_strings_kept() {
        let m = parse(
            "{ /* block\n comment */ \"name\": \"a // not a comment\", // line\n \"version\": \"1.0\" }",
        )
        .unwrap();
        assert_eq!(m.name(), "a // not a comment");
    }

    #[test]
    fn json_errors_have_line_and_column() {
        let err = parse("{\n  \"name\": \"x\",\n  \"version\": \n}").unwrap_err();
        match err {
            ManifestError::NotJson { line, .. } => assert_eq!(line, 4),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (r#"{"version":"1"}"#, "name"),
            (r#"{"name":"x"}"#, "version"),
            (r#"{"name":"x","version":"1.2.3.4.5"}"#, "version"),
            (r#"{"name":"x","version":"01"}"#, "version"),
            (r#"{"name":"x","version":"1","key":"%%%"}"#, "key"),
            (
                r#"{"name":"x","version":"1","permissions":"tabs"}"#,
                "permissions",
            ),
            (
                r#"{"name":"x","version":"1","permissions":["a",3]}"#,
                "permissions[1]",
            ),
            (
                r#"{"name":"x","version":"1","background":{"persistent":1,"scripts":[]}}"#,
                "background.persistent",
            ),
            (
                r#"{"name":"x","version":"1","background":{"scripts":"bg.js"}}"#,
                "background.scripts",
            ),
            (
                r#"{"name":"x","version":"1","background":{"scripts":[1]}}"#,
                "background.scripts[0]",
            ),
            (
                r#"{"name":"x","version":"1","background":{"page":"a","scripts":[]}}"#,
                "background",
            ),
            (
                r#"{"name":"x","version":"1","options_ui":{}}"#,
                "options_ui.page",
            ),
            (
                r#"{"name":"x","version":"1","options_page":5}"#,
                "options_page",
            ),
            (
                r#"{"name":"x","version":"1","manifest_version":"2"}"#,
                "manifest_version",
            ),
        ];
        for (text, field) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!(err.field().as_deref(), Some(field), "{text} gave {err}");
            assert!(err.to_string().contains(field), "{err}");
        }
    }

    #[test]
    fn background_defaults_to_persistent() {
        let m = parse(r#"{"name":"x","version":"1","background":{"page":"bg.html"}}"#).unwrap();
        let bg = m.background().unwrap();
        assert!(bg.persistent);
        assert_eq!(bg.page_path(), "bg.html");
    }

    #[test]
    fn options_ui_wins_over_options_page() {
        let m = parse(
            r#"{"name":"x","version":"1","options_page":"old.html","options_ui":{"page":"new.html"}}"#,
        )
        .unwrap();
        assert_eq!(m.options_page(), Some("new.html"));
    }
    #[test]
    fn manifest_v3_backgrounds_are_service_workers_or_non_persistent_scripts() {
        let m = Manifest::from_value(serde_json::json!({
            "name": "w", "version": "1", "manifest_version": 3,
            "background": {"service_worker": "sw.js"}
        }))
        .unwrap();
        let bg = m.background().unwrap();
        assert_eq!(bg.kind, BackgroundKind::ServiceWorker("sw.js".into()));
        assert!(!bg.persistent);
        assert_eq!(bg.page_path(), "sw.js");
        let firefox_style = Manifest::from_value(serde_json::json!({
            "name": "f", "version": "1", "manifest_version": 3,
            "background": {"scripts": ["bg.js"], "persistent": true}
        }))
        .unwrap();
        assert!(!firefox_style.background().unwrap().persistent);
        let err = Manifest::from_value(serde_json::json!({
            "name": "e", "version": "1", "manifest_version": 3,
            "background": {"service_worker": ""}
        }))
        .unwrap_err();
        assert_eq!(err.field().as_deref(), Some("background.service_worker"));
    }
}
