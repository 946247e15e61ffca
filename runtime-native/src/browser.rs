//! Which browser's rules apply: the host name rule, the caller's origin, the argv, the
//! shutdown policy and the wording of errors all depend on it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::shutdown::ShutdownPolicy;

/// The browser whose native messaging rules are followed.
///
/// Chrome and Chromium share every rule but the manifest folders; Firefox differs in the
/// host name rule, the manifest's allow list (`allowed_extensions`), the argv given to the
/// host, the shutdown policy, and the wording of "not found" / "forbidden".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum BrowserKind {
    /// Google Chrome.
    Chrome,
    /// Chromium (same rules as Chrome, other manifest folders).
    Chromium,
    /// Mozilla Firefox.
    Firefox,
}

impl BrowserKind {
    /// Every browser, in a fixed order.
    pub const ALL: [BrowserKind; 3] = [
        BrowserKind::Chrome,
        BrowserKind::Chromium,
        BrowserKind::Firefox,
    ];

    /// The lower-case name: `chrome`, `chromium` or `firefox`.
    pub fn as_str(self) -> &'static str {
        match self {
            BrowserKind::Chrome => "chrome",
            BrowserKind::Chromium => "chromium",
            BrowserKind::Firefox => "firefox",
        }
    }

    /// True for Firefox.
    pub fn is_firefox(self) -> bool {
        self == BrowserKind::Firefox
    }

    /// Whether `name` is a valid native messaging host name for this browser.
    ///
    /// Chrome and Chromium: `^[a-z0-9_]+(\.[a-z0-9_]+)*$`. Firefox allows upper case:
    /// `^\w+(\.\w+)*$` (`\w` being `[A-Za-z0-9_]`).
    pub fn is_valid_host_name(self, name: &str) -> bool {
        let allowed = |c: char| match self {
            BrowserKind::Firefox => c.is_ascii_alphanumeric() || c == '_',
            BrowserKind::Chrome | BrowserKind::Chromium => {
                c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
            }
        };
        !name.is_empty()
            && name
                .split('.')
                .all(|part| !part.is_empty() && part.chars().all(allowed))
    }

    /// How the browser names the calling extension to the host and in the manifest's allow
    /// list: `chrome-extension://<id>/` for Chrome and Chromium, the add-on id itself for
    /// Firefox.
    pub fn caller_origin(self, extension_id: &str) -> String {
        match self {
            BrowserKind::Firefox => extension_id.to_owned(),
            BrowserKind::Chrome | BrowserKind::Chromium => {
                format!("chrome-extension://{extension_id}/")
            }
        }
    }

    /// The browser's policy for ending a host once its stdin is closed (§5.5).
    pub fn shutdown_policy(self) -> ShutdownPolicy {
        match self {
            BrowserKind::Firefox => ShutdownPolicy::firefox(),
            BrowserKind::Chrome | BrowserKind::Chromium => ShutdownPolicy::chrome(),
        }
    }
}

impl fmt::Display for BrowserKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing a [`BrowserKind`] from a string other than `chrome`, `chromium` or
/// `firefox`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown browser {0:?} (expected chrome, chromium or firefox)")]
pub struct ParseBrowserKindError(pub String);

impl FromStr for BrowserKind {
    type Err = ParseBrowserKindError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BrowserKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseBrowserKindError(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chrome_name_rule() {
        let chrome = BrowserKind::Chrome;
        for ok in ["ping_pong", "com.example.host", "a", "_", "a1.b_2.c3"] {
            assert!(chrome.is_valid_host_name(ok), "{ok}");
        }
        for bad in [
            "", ".a", "a.", "a..b", "Ping", "a-b", "a b", "é", "a/b", "a.B", ".",
        ] {
            assert!(!chrome.is_valid_host_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn firefox_name_rule_allows_upper_case() {
        let firefox = BrowserKind::Firefox;
        assert!(firefox.is_valid_host_name("Ping_Pong.Host2"));
        for bad in ["", "a..b", ".a", "a.", "a-b", "é"] {
            assert!(!firefox.is_valid_host_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn origins_and_parsing() {
        assert_eq!(
            BrowserKind::Chromium.caller_origin("abc"),
            "chrome-extension://abc/"
        );
        assert_eq!(
            BrowserKind::Firefox.caller_origin("ping_pong@example.org"),
            "ping_pong@example.org"
        );
        assert_eq!("Firefox".parse(), Ok(BrowserKind::Firefox));
        assert!("safari".parse::<BrowserKind>().is_err());
    }
}
