//! URL match patterns (`content_scripts.matches`, `externally_connectable.matches`), as
//! Chromium's `URLPattern` reads them: `<all_urls>` or `<scheme>://<host><path>`.

use std::fmt;

/// A URL match pattern such as `https://*.example.com/*` or `<all_urls>`.
///
/// ```
/// use runtime_core::MatchPattern;
///
/// let p = MatchPattern::parse("*://*.example.com/app/*").unwrap();
/// assert!(p.matches("https://www.example.com/app/index.html"));
/// assert!(p.matches("http://example.com/app/"));
/// assert!(!p.matches("https://example.org/app/"));
/// assert!(!p.matches("ftp://example.com/app/"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchPattern {
    text: String,
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    AllUrls,
    Url {
        /// `None` for `*` (http and https).
        scheme: Option<String>,
        /// `None` for `*` (any host).
        host: Option<String>,
        /// `*.` before the host: subdomains match too.
        subdomains: bool,
        path: String,
    },
}

/// Why a match pattern was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MatchPatternError {
    /// No `://` separator (and not `<all_urls>`).
    #[error("Missing scheme separator.")]
    MissingSchemeSeparator,
    /// The scheme is not one patterns may use.
    #[error("Invalid scheme.")]
    InvalidScheme,
    /// The host is empty where one is needed.
    #[error("Empty host.")]
    EmptyHost,
    /// A `*` in the host other than a leading `*.`.
    #[error("Invalid host wildcard.")]
    InvalidHostWildcard,
    /// No path after the host.
    #[error("Empty path.")]
    EmptyPath,
}

const SCHEMES: &[&str] = &["http", "https", "file", "ftp", "ws", "wss", "urn", "data"];

impl MatchPattern {
    /// Parses a pattern.
    pub fn parse(text: &str) -> Result<MatchPattern, MatchPatternError> {
        if text == "<all_urls>" {
            return Ok(MatchPattern {
                text: text.to_owned(),
                kind: Kind::AllUrls,
            });
        }
        let (scheme, rest) = text
            .split_once("://")
            .ok_or(MatchPatternError::MissingSchemeSeparator)?;
        let scheme = match scheme {
            "*" => None,
            s if SCHEMES.contains(&s) => Some(s.to_owned()),
            _ => return Err(MatchPatternError::InvalidScheme),
        };
        let slash = rest.find('/').ok_or(MatchPatternError::EmptyPath)?;
        let (authority, path) = rest.split_at(slash);
        if authority.is_empty() && scheme.as_deref() != Some("file") {
            return Err(MatchPatternError::EmptyHost);
        }
        let (host, subdomains) = match authority {
            "*" => (None, true),
            a => match a.strip_prefix("*.") {
                Some(h) => (Some(h.to_ascii_lowercase()), true),
                None => (Some(a.to_ascii_lowercase()), false),
            },
        };
        if host.as_deref().is_some_and(|h| h.contains('*')) {
            return Err(MatchPatternError::InvalidHostWildcard);
        }
        Ok(MatchPattern {
            text: text.to_owned(),
            kind: Kind::Url {
                scheme,
                host,
                subdomains,
                path: path.to_owned(),
            },
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern matches every host (`<all_urls>`, `*://*/*`) or every subdomain of a
    /// top-level domain (`*://*.com/*`): what `externally_connectable.matches` refuses.
    pub fn has_wildcard_host(&self) -> bool {
        match &self.kind {
            Kind::AllUrls => true,
            Kind::Url {
                host, subdomains, ..
            } => match host {
                None => true,
                Some(h) => *subdomains && !h.contains('.'),
            },
        }
    }

    /// Whether `url` matches.
    pub fn matches(&self, url: &str) -> bool {
        let Some((scheme, rest)) = url.split_once("://") else {
            return false;
        };
        let scheme = scheme.to_ascii_lowercase();
        match &self.kind {
            Kind::AllUrls => SCHEMES.contains(&scheme.as_str()) || scheme == "chrome-extension",
            Kind::Url {
                scheme: want,
                host,
                subdomains,
                path,
            } => {
                let scheme_ok = match want {
                    None => scheme == "http" || scheme == "https",
                    Some(s) => *s == scheme,
                };
                let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
                let authority = &rest[..end];
                let url_path = match &rest[end..] {
                    "" => "/",
                    p => p.split('#').next().unwrap_or("/"),
                };
                let url_host = authority.rsplit('@').next().unwrap_or("");
                let url_host = url_host
                    .rsplit_once(':')
                    .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
                    .map_or(url_host, |(h, _)| h)
                    .to_ascii_lowercase();
                let host_ok = match host {
                    None => true,
                    Some(h) => {
                        url_host == *h
                            || (*subdomains
                                && url_host
                                    .strip_suffix(h.as_str())
                                    .is_some_and(|pre| pre.ends_with('.')))
                    }
                };
                scheme_ok && host_ok && glob(path, url_path)
            }
        }
    }
}

impl fmt::Display for MatchPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = parts.split_first().expect("split yields at least one part");
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for part in middle {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("/*", "/"));
        assert!(glob("/a/*/c", "/a/b/x/c"));
        assert!(!glob("/a/*/c", "/a/b/x/d"));
        assert!(glob("/exact", "/exact"));
        assert!(!glob("/exact", "/exact/more"));
        assert!(glob("*ab*ab", "abab"));
        assert!(!glob("*aba*aba", "ababa"));
    }

    #[test]
    fn hosts_ports_and_schemes() {
        let p = MatchPattern::parse("https://example.com/*").unwrap();
        assert!(p.matches("https://example.com:8443/x?y=1"));
        assert!(p.matches("https://EXAMPLE.com"));
        assert!(!p.matches("https://notexample.com/"));
        assert!(!p.matches("https://sub.example.com/"));
        assert!(!p.matches("http://example.com/"));
        let all = MatchPattern::parse("<all_urls>").unwrap();
        assert!(all.matches("file:///tmp/x.html"));
        assert!(!all.matches("about:blank"));
    }

    #[test]
    fn bad_patterns_and_wildcard_hosts() {
        assert_eq!(
            MatchPattern::parse("example.com/*"),
            Err(MatchPatternError::MissingSchemeSeparator)
        );
        assert_eq!(
            MatchPattern::parse("gopher://x/*"),
            Err(MatchPatternError::InvalidScheme)
        );
        assert_eq!(
            MatchPattern::parse("https://a.*.com/*"),
            Err(MatchPatternError::InvalidHostWildcard)
        );
        assert_eq!(
            MatchPattern::parse("https://example.com"),
            Err(MatchPatternError::EmptyPath)
        );
        for wild in ["<all_urls>", "*://*/*", "https://*.com/*"] {
            assert!(
                MatchPattern::parse(wild).unwrap().has_wildcard_host(),
                "{wild}"
            );
        }
        assert!(!MatchPattern::parse("https://*.example.com/*")
            .unwrap()
            .has_wildcard_host());
    }
}
