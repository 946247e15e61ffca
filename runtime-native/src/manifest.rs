//! The native messaging host manifest (§5.3) and its validation.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::browser::BrowserKind;

/// The scheme of a Chrome caller origin.
const EXTENSION_SCHEME: &str = "chrome-extension://";

/// A native messaging host manifest, as found in `<name>.json`.
///
/// Unknown fields are ignored. Chrome lists callers in `allowed_origins`
/// (`chrome-extension://<id>/`), Firefox in `allowed_extensions` (add-on ids).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostManifest {
    /// The host's name; must equal the requested name.
    pub name: String,
    /// A description; must not be empty.
    #[serde(default)]
    pub description: String,
    /// The host executable; must be absolute on Linux and macOS.
    pub path: PathBuf,
    /// The manifest `type`; must be `"stdio"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Chrome: the extensions allowed to connect, as `chrome-extension://<id>/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    /// Firefox: the add-on ids allowed to connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_extensions: Option<Vec<String>>,
}

/// What is wrong with a manifest. Every one of these is reported to the extension as
/// "not found" (§5.4); this type keeps the detail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostManifestError {
    /// The file is not JSON of the manifest's shape.
    #[error("host manifest is not valid: {0}")]
    Parse(#[from] serde_json::Error),
    /// The manifest's `name` breaks the host name rule.
    #[error("host manifest name {name:?} breaks the host name rule")]
    InvalidName {
        /// The name in the manifest.
        name: String,
    },
    /// `description` is missing or empty.
    #[error("host manifest has an empty description")]
    EmptyDescription,
    /// `type` is not `stdio`.
    #[error("host manifest type is {found:?}, not \"stdio\"")]
    UnsupportedType {
        /// The type in the manifest.
        found: String,
    },
    /// `path` is relative (only Windows accepts that).
    #[error("host path {path:?} is not absolute")]
    RelativePath {
        /// The path in the manifest.
        path: PathBuf,
    },
    /// Chrome/Chromium manifest without `allowed_origins`.
    #[error("host manifest has no allowed_origins")]
    MissingAllowedOrigins,
    /// Firefox manifest without `allowed_extensions`.
    #[error("host manifest has no allowed_extensions")]
    MissingAllowedExtensions,
    /// An `allowed_origins` entry that is not `chrome-extension://<id>/`.
    #[error("allowed origin {origin:?} is not of the form chrome-extension://<id>/")]
    InvalidOrigin {
        /// The entry.
        origin: String,
    },
    /// An `allowed_origins` entry with a wildcard.
    #[error("allowed origin {origin:?} has a wildcard")]
    WildcardOrigin {
        /// The entry.
        origin: String,
    },
    /// The manifest's `name` differs from the requested name.
    #[error("host manifest is named {found:?}, not {requested:?}")]
    NameMismatch {
        /// The name the extension asked for.
        requested: String,
        /// The name in the manifest.
        found: String,
    },
}

impl HostManifest {
    /// The only manifest `type` native messaging accepts: `"stdio"`.
    pub const STDIO: &'static str = "stdio";

    /// A `stdio` manifest with no allow list; add callers with
    /// [`allow_origin`](Self::allow_origin) or [`allow_extension`](Self::allow_extension).
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> HostManifest {
        HostManifest {
            name: name.into(),
            description: description.into(),
            path: path.into(),
            kind: HostManifest::STDIO.to_owned(),
            allowed_origins: None,
            allowed_extensions: None,
        }
    }

    /// Adds a Chrome origin (`chrome-extension://<id>/`) to `allowed_origins`.
    pub fn allow_origin(mut self, origin: impl Into<String>) -> HostManifest {
        self.allowed_origins
            .get_or_insert_with(Vec::new)
            .push(origin.into());
        self
    }

    /// Adds a Firefox add-on id to `allowed_extensions`.
    pub fn allow_extension(mut self, extension_id: impl Into<String>) -> HostManifest {
        self.allowed_extensions
            .get_or_insert_with(Vec::new)
            .push(extension_id.into());
        self
    }

    /// Adds the caller to the allow list `browser` reads: the origin for Chrome and
    /// Chromium, the add-on id for Firefox.
    pub fn allow(self, browser: BrowserKind, extension_id: &str) -> HostManifest {
        match browser {
            BrowserKind::Firefox => self.allow_extension(extension_id),
            BrowserKind::Chrome | BrowserKind::Chromium => {
                self.allow_origin(browser.caller_origin(extension_id))
            }
        }
    }

    /// Parses a manifest from JSON text (without validating it).
    pub fn from_json(text: &[u8]) -> Result<HostManifest, HostManifestError> {
        Ok(serde_json::from_slice(text)?)
    }

    /// The manifest as pretty-printed JSON.
    pub fn to_json_pretty(&self) -> String {
        // A struct of strings and string lists always serializes.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks the rules of §5.3 for `browser`: the name rule, a non-empty description, the
    /// `stdio` type, an absolute path, and the allow list the browser reads (no wildcard
    /// origins).
    pub fn validate(&self, browser: BrowserKind) -> Result<(), HostManifestError> {
        if !browser.is_valid_host_name(&self.name) {
            return Err(HostManifestError::InvalidName {
                name: self.name.clone(),
            });
        }
        if self.description.is_empty() {
            return Err(HostManifestError::EmptyDescription);
        }
        if self.kind != HostManifest::STDIO {
            return Err(HostManifestError::UnsupportedType {
                found: self.kind.clone(),
            });
        }
        if !self.path.is_absolute() {
            return Err(HostManifestError::RelativePath {
                path: self.path.clone(),
            });
        }
        match browser {
            BrowserKind::Firefox => {
                if self.allowed_extensions.is_none() {
                    return Err(HostManifestError::MissingAllowedExtensions);
                }
            }
            BrowserKind::Chrome | BrowserKind::Chromium => {
                let origins = self
                    .allowed_origins
                    .as_ref()
                    .ok_or(HostManifestError::MissingAllowedOrigins)?;
                for origin in origins {
                    check_origin(origin)?;
                }
            }
        }
        Ok(())
    }

    /// [`validate`](Self::validate), then checks that the manifest's name is the
    /// requested one.
    pub fn validate_for(
        &self,
        browser: BrowserKind,
        requested: &str,
    ) -> Result<(), HostManifestError> {
        self.validate(browser)?;
        if self.name != requested {
            return Err(HostManifestError::NameMismatch {
                requested: requested.to_owned(),
                found: self.name.clone(),
            });
        }
        Ok(())
    }

    /// Whether the extension `extension_id` may use this host under `browser`'s rules.
    pub fn allows(&self, browser: BrowserKind, extension_id: &str) -> bool {
        let list = match browser {
            BrowserKind::Firefox => &self.allowed_extensions,
            BrowserKind::Chrome | BrowserKind::Chromium => &self.allowed_origins,
        };
        let caller = browser.caller_origin(extension_id);
        list.as_ref().is_some_and(|list| list.contains(&caller))
    }

    /// The folder that holds the executable: the host's working directory.
    pub fn executable_dir(&self) -> Option<&Path> {
        self.path.parent()
    }
}

/// An origin must be exactly `chrome-extension://<id>/`, with no wildcard.
fn check_origin(origin: &str) -> Result<(), HostManifestError> {
    if origin.contains('*') {
        return Err(HostManifestError::WildcardOrigin {
            origin: origin.to_owned(),
        });
    }
    let id = origin
        .strip_prefix(EXTENSION_SCHEME)
        .and_then(|rest| rest.strip_suffix('/'));
    match id {
        Some(id) if !id.is_empty() && !id.contains('/') => Ok(()),
        _ => Err(HostManifestError::InvalidOrigin {
            origin: origin.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "knldjmfmopnpolahpmmgbagdohdnhkik";

    fn chrome() -> HostManifest {
        HostManifest::new("ping_pong", "Example host", "/opt/host/ping_pong")
            .allow(BrowserKind::Chrome, ID)
    }

    #[test]
    fn parses_the_documented_shape() {
        let text = br#"{
            "name": "ping_pong",
            "description": "Example host for native messaging",
            "path": "/usr/local/bin/ping_pong.py",
            "type": "stdio",
            "allowed_extensions": ["ping_pong@example.org"],
            "extra": 1
        }"#;
        let manifest = HostManifest::from_json(text).expect("parses");
        assert_eq!(manifest.kind, "stdio");
        manifest
            .validate(BrowserKind::Firefox)
            .expect("valid for Firefox");
        assert!(matches!(
            manifest.validate(BrowserKind::Chrome),
            Err(HostManifestError::MissingAllowedOrigins)
        ));
        assert!(manifest.allows(BrowserKind::Firefox, "ping_pong@example.org"));
        assert!(!manifest.allows(BrowserKind::Firefox, "other@example.org"));
    }

    #[test]
    fn rules() {
        chrome()
            .validate_for(BrowserKind::Chrome, "ping_pong")
            .expect("valid");
        assert!(chrome().allows(BrowserKind::Chromium, ID));

        let mut m = chrome();
        m.description.clear();
        assert!(matches!(
            m.validate(BrowserKind::Chrome),
            Err(HostManifestError::EmptyDescription)
        ));

        let mut m = chrome();
        m.kind = "pkcs11".into();
        assert!(matches!(
            m.validate(BrowserKind::Chrome),
            Err(HostManifestError::UnsupportedType { .. })
        ));

        let mut m = chrome();
        m.path = "host.sh".into();
        assert!(matches!(
            m.validate(BrowserKind::Chrome),
            Err(HostManifestError::RelativePath { .. })
        ));

        let m = chrome().allow_origin("chrome-extension://*/");
        assert!(matches!(
            m.validate(BrowserKind::Chrome),
            Err(HostManifestError::WildcardOrigin { .. })
        ));

        for bad in [
            "chrome-extension://abc",
            "https://abc/",
            "chrome-extension:///",
            "chrome-extension://a/b/",
        ] {
            let m = chrome().allow_origin(bad);
            assert!(
                matches!(
                    m.validate(BrowserKind::Chrome),
                    Err(HostManifestError::InvalidOrigin { .. })
                ),
                "{bad}"
            );
        }

        let mut m = chrome();
        m.name = "Ping".into();
        assert!(matches!(
            m.validate(BrowserKind::Chrome),
            Err(HostManifestError::InvalidName { .. })
        ));
        assert!(matches!(
            chrome().validate_for(BrowserKind::Chrome, "other"),
            Err(HostManifestError::NameMismatch { .. })
        ));
    }

    #[test]
    fn round_trips_through_json() {
        let m = chrome();
        let back = HostManifest::from_json(m.to_json_pretty().as_bytes()).expect("parses");
        assert_eq!(back, m);
        assert!(!m.to_json_pretty().contains("allowed_extensions"));
    }
}
