//! `runtime.getURL(path)`: the URL of a file of the extension, as Chromium makes it.
//!
//! Chromium appends the path to the extension's origin (one `/` between them) and
//! canonicalises the result as it does any URL of a standard scheme. Measured in Chromium 148
//! (conformance/goldens/chromium-mv3.json, the `getURL` cases):
//! - the path's `.` and `..` segments are resolved (also written `%2e`), never above the root;
//! - `\` is a `/`; tab, line feed and carriage return are removed;
//! - in the path, controls, space, `"`, `<`, `>`, `^`, `` ` ``, `{`, `|`, `}`, DEL and every
//!   byte of a non-ASCII character are percent-encoded; in the query only controls, space,
//!   `"`, `<`, `>`, DEL and non-ASCII are, and in the fragment `` ` `` as well;
//! - `%` escapes already there are kept as written.

/// The URL of `path` under `origin` (`chrome-extension://<id>`, no trailing slash).
pub(crate) fn resource_url(origin: &str, path: &str) -> String {
    // Chromium removes tabs and newlines anywhere, and trailing controls and spaces.
    let cleaned: String = path
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let cleaned = cleaned.trim_end_matches(|c: char| c <= ' ');
    let (rest, fragment) = match cleaned.find('#') {
        Some(at) => (&cleaned[..at], Some(&cleaned[at + 1..])),
        None => (cleaned, None),
    };
    let (path, query) = match rest.find('?') {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let mut url = String::with_capacity(origin.len() + cleaned.len() + 8);
    url.push_str(origin);
    url.push_str(&canonical_path(path));
    if let Some(query) = query {
        url.push('?');
        escape_into(&mut url, query, Part::Query);
    }
    if let Some(fragment) = fragment {
        url.push('#');
        escape_into(&mut url, fragment, Part::Fragment);
    }
    url
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Path,
    Query,
    Fragment,
}

fn escaped(byte: u8, part: Part) -> bool {
    if byte <= b' ' || byte >= 0x7f {
        return true;
    }
    match part {
        Part::Path => matches!(byte, b'"' | b'<' | b'>' | b'^' | b'`' | b'{' | b'|' | b'}'),
        Part::Query => matches!(byte, b'"' | b'<' | b'>'),
        Part::Fragment => matches!(byte, b'"' | b'<' | b'>' | b'`'),
    }
}

fn escape_into(out: &mut String, text: &str, part: Part) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in text.as_bytes() {
        if escaped(byte, part) {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            out.push(char::from(byte));
        }
    }
}

/// A segment that means `.` or `..`, `%2e` counting as a dot.
fn dots(segment: &str) -> Option<usize> {
    let is = |text: &str| segment.eq_ignore_ascii_case(text);
    if is(".") || is("%2e") {
        Some(1)
    } else if is("..") || is(".%2e") || is("%2e.") || is("%2e%2e") {
        Some(2)
    } else {
        None
    }
}

/// `/` and the path, its dot segments resolved and its characters escaped.
fn canonical_path(path: &str) -> String {
    let path = path.replace('\\', "/");
    // One `/` joins the origin and the path: a leading `/` of the path is that one.
    let path = path.strip_prefix('/').unwrap_or(&path);
    let segments: Vec<&str> = path.split('/').collect();
    let mut kept: Vec<&str> = Vec::with_capacity(segments.len());
    let last = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        match dots(segment) {
            Some(n) => {
                if n == 2 {
                    kept.pop();
                }
                // A dot segment at the end leaves the path ending in `/`.
                if i == last {
                    kept.push("");
                }
            }
            None => kept.push(segment),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for segment in &kept {
        out.push('/');
        escape_into(&mut out, segment, Part::Path);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::resource_url;

    const ORIGIN: &str = "chrome-extension://kddcbmdcjjdajlhjlncpcbpeejafhkep";

    /// Chromium 148's answers (conformance/goldens/chromium-mv3.json).
    #[test]
    fn paths_are_canonicalised_as_chromium_does() {
        for (path, url) in [
            ("", "/"),
            ("page.html", "/page.html"),
            ("/page.html", "/page.html"),
            ("//elsewhere/x.html", "//elsewhere/x.html"),
            ("a b.html", "/a%20b.html"),
            ("../up.html", "/up.html"),
            ("dir/../page.html", "/page.html"),
            ("a/./b/../c.html", "/a/c.html"),
            ("%2e%2e/x.html", "/x.html"),
            ("..", "/"),
            ("dir/..", "/"),
            ("end/", "/end/"),
            ("a\\b.html", "/a/b.html"),
            ("tab\t.html", "/tab.html"),
            ("ü.html", "/%C3%BC.html"),
            ("%20.html", "/%20.html"),
            ("x{y}.html", "/x%7By%7D.html"),
            ("pipe|.html", "/pipe%7C.html"),
            ("https://example.com/", "/https://example.com/"),
            ("p.html?x=1?y#f#g", "/p.html?x=1?y#f#g"),
            ("q.html?a b\"<>`{}ü", "/q.html?a%20b%22%3C%3E`{}%C3%BC"),
            ("f.html#a b\"<>`{}ü", "/f.html#a%20b%22%3C%3E%60{}%C3%BC"),
            ("#top", "/#top"),
        ] {
            assert_eq!(
                resource_url(ORIGIN, path),
                format!("{ORIGIN}{url}"),
                "{path:?}"
            );
        }
    }
}
