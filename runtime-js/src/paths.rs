//! Paths inside an extension, resolved as the browser resolves a URL against the
//! `chrome-extension://<id>/` URL of the page or script that names it: relative references
//! (`x.js`, `./x.js`, `../lib/y.js`), absolute paths (`/lib/y.js`), and full URLs of the
//! extension's own origin. Dot segments are resolved and never climb above the root, as in a
//! URL; a backslash is a slash (the extension schemes are standard schemes).

/// What a reference names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A file of this extension: its path from the root (percent-encoded, as in the URL; no
    /// leading slash) and the query, if the reference had one.
    Here { path: String, query: Option<String> },
    /// A URL of another origin, as written.
    Elsewhere(String),
}

impl Target {
    /// The URL of a file of the extension whose origin is `origin` (`chrome-extension://<id>`).
    pub(crate) fn url(&self, origin: &str) -> String {
        match self {
            Target::Here { path, query } => match query {
                Some(query) => format!("{origin}/{path}?{query}"),
                None => format!("{origin}/{path}"),
            },
            Target::Elsewhere(url) => url.clone(),
        }
    }

    /// The name a module of this extension is known by: its path, and its query if it has one
    /// (two URLs that differ only in their query are two modules, as in the browser).
    pub(crate) fn module_name(&self) -> Option<String> {
        match self {
            Target::Here { path, query } => Some(match query {
                Some(query) => format!("{path}?{query}"),
                None => path.clone(),
            }),
            Target::Elsewhere(_) => None,
        }
    }
}

/// `reference` resolved against `base` (the path from the root of the file that names it, a
/// query after a `?` allowed) in the extension whose origin is `origin`.
pub(crate) fn resolve(origin: &str, base: &str, reference: &str) -> Target {
    let reference: String = reference
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    let base_path = base.split(['?', '#']).next().unwrap_or("");
    let (scheme, host) = origin.split_once("://").unwrap_or((origin, ""));
    let own_host = |authority: &str| authority.eq_ignore_ascii_case(host);

    let joined = if let Some((their_scheme, rest)) = split_scheme(&reference) {
        if !their_scheme.eq_ignore_ascii_case(scheme) {
            return Target::Elsewhere(reference);
        }
        if !rest.starts_with('/') {
            // "chrome-extension:x.js": relative to the base, as for any standard scheme.
            join(base_path, rest)
        } else {
            let rest = rest.trim_start_matches('/');
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            if !own_host(&rest[..end]) {
                return Target::Elsewhere(reference);
            }
            format!("/{}", rest[end..].trim_start_matches('/'))
        }
    } else if let Some(rest) = reference.strip_prefix("//") {
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if !own_host(&rest[..end]) {
            return Target::Elsewhere(format!("{scheme}:{reference}"));
        }
        format!("/{}", rest[end..].trim_start_matches('/'))
    } else if reference.starts_with('/') {
        reference.clone()
    } else if reference.starts_with('?') {
        format!("/{base_path}{reference}")
    } else if reference.is_empty() || reference.starts_with('#') {
        format!("/{base}")
    } else {
        join(base_path, &reference)
    };

    let without_fragment = joined.split('#').next().unwrap_or("");
    let (path, query) = match without_fragment.split_once('?') {
        Some((path, query)) => (path, Some(query.to_owned())),
        None => (without_fragment, None),
    };
    Target::Here {
        path: normalize(path),
        query,
    }
}

/// The scheme of an absolute URL (`scheme:rest`), and the rest.
fn split_scheme(reference: &str) -> Option<(&str, &str)> {
    let colon = reference.find(':')?;
    let scheme = &reference[..colon];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let valid = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| (scheme, &reference[colon + 1..]))
}

/// `reference` (a relative path) after the directory of `base`, as a path from the root.
fn join(base: &str, reference: &str) -> String {
    let directory = match base.rfind('/') {
        Some(slash) => &base[..=slash],
        None => "",
    };
    format!("/{directory}{reference}")
}

/// A path from the root with its dot segments resolved (never above the root), without its
/// leading slash.
fn normalize(path: &str) -> String {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut out: Vec<&str> = Vec::new();
    let last = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        let lower = segment.to_ascii_lowercase();
        let single = lower == "." || lower == "%2e";
        let double = matches!(lower.as_str(), ".." | ".%2e" | "%2e." | "%2e%2e");
        if double {
            out.pop();
            if i == last {
                out.push("");
            }
        } else if single {
            if i == last {
                out.push("");
            }
        } else {
            out.push(segment);
        }
    }
    out.join("/")
}

/// The file path a URL path names: percent-decoded; `None` if that is not UTF-8.
pub(crate) fn decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "chrome-extension://abcdefghijklmnopabcdefghijklmnop";

    fn here(base: &str, reference: &str) -> String {
        match resolve(ORIGIN, base, reference) {
            Target::Here { path, query } => match query {
                Some(q) => format!("{path}?{q}"),
                None => path,
            },
            Target::Elsewhere(url) => format!("elsewhere {url}"),
        }
    }

    #[test]
    fn references_resolve_against_the_importing_file_as_urls_do() {
        assert_eq!(here("sw.js", "./lib/a.js"), "lib/a.js");
        assert_eq!(here("lib/a.js", "./b.js"), "lib/b.js");
        assert_eq!(here("lib/a.js", "../c.js"), "c.js");
        assert_eq!(here("lib/deep/a.js", "/lib/y.js"), "lib/y.js");
        assert_eq!(here("lib/a.js", "b.js"), "lib/b.js");
        assert_eq!(here("a.js", "./x/./y/../z.js"), "x/z.js");
        assert_eq!(here("a.js", "lib\\w.js"), "lib/w.js");
        assert_eq!(here("a.js", "./q.js?v=2#top"), "q.js?v=2");
        assert_eq!(here("a.js", "./%2e%2E/x.js"), "x.js");
        assert_eq!(
            here("a.js", &format!("{ORIGIN}/lib/u.js")),
            "lib/u.js",
            "a full URL of the extension's own origin"
        );
        assert_eq!(
            here("lib/a.js", "//abcdefghijklmnopabcdefghijklmnop/k.js"),
            "k.js"
        );
    }

    #[test]
    fn dot_segments_never_climb_above_the_root() {
        assert_eq!(here("sw.js", "../outside.js"), "outside.js");
        assert_eq!(here("lib/a.js", "../../../../etc/passwd"), "etc/passwd");
        assert_eq!(here("a.js", "/../x.js"), "x.js");
    }

    #[test]
    fn other_origins_are_elsewhere() {
        assert_eq!(
            here("a.js", "https://cdn.example/lib.js"),
            "elsewhere https://cdn.example/lib.js"
        );
        assert_eq!(
            here("a.js", "chrome-extension://otherextension/x.js"),
            "elsewhere chrome-extension://otherextension/x.js"
        );
        assert_eq!(
            here("a.js", "//cdn.example/x.js"),
            "elsewhere chrome-extension://cdn.example/x.js"
        );
    }

    #[test]
    fn paths_are_percent_decoded_into_file_names() {
        assert_eq!(decode("a%20b.js").as_deref(), Some("a b.js"));
        assert_eq!(decode("%C3%A9.js").as_deref(), Some("é.js"));
        assert_eq!(decode("100%.js").as_deref(), Some("100%.js"));
        assert_eq!(decode("%ff.js"), None);
    }
}
