//! The `<script>` elements of a background page's HTML, in document order, from a small
//! scanner: no DOM, only what decides which scripts run and when. Comments, the raw text of
//! `<style>`, `<textarea>`, `<noscript>` and the like, and `<template>` contents hold no
//! scripts that run; attribute values may be quoted and carry character references.

/// At most this many `<script>` elements of one page are kept.
pub(crate) const MAX_PAGE_SCRIPTS: usize = 1024;

/// One `<script>` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScriptTag {
    /// The `src` attribute, if any.
    pub(crate) src: Option<String>,
    /// How the browser treats it.
    pub(crate) kind: ScriptKind,
    /// `defer` (a classic script with `src` runs after the document is parsed).
    pub(crate) defer: bool,
    /// `async` (runs when it is ready: here, after the others).
    pub(crate) is_async: bool,
    /// The line it starts on (from 1).
    pub(crate) line: usize,
    /// It has text between its tags (inline script).
    pub(crate) inline: bool,
}

/// What a `<script>` element's `type` makes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScriptKind {
    Classic,
    Module,
    /// A data block or a type the browser does not run (`nomodule` classic scripts too).
    NotRun,
}

impl ScriptTag {
    /// The order the scripts with `src` run in: parser-blocking classic scripts first, then
    /// deferred classic and module scripts, then `async` ones, each in document order.
    pub(crate) fn phase(&self) -> u8 {
        match (self.is_async && self.src.is_some(), self.kind, self.defer) {
            (true, _, _) => 2,
            (false, ScriptKind::Module, _) => 1,
            (false, _, true) if self.src.is_some() => 1,
            _ => 0,
        }
    }
}

/// The `<script>` elements of `html`, in document order (at most [`MAX_PAGE_SCRIPTS`]), and
/// whether more were left out.
pub(crate) fn scripts(html: &str) -> (Vec<ScriptTag>, bool) {
    let lower = html.to_ascii_lowercase();
    let mut scanner = Scanner {
        html,
        lower: &lower,
        at: 0,
    };
    let mut found = Vec::new();
    let mut more = false;
    while let Some(lt) = scanner.find("<") {
        scanner.at = lt;
        let rest = &html[lt..];
        if rest.starts_with("<!--") {
            scanner.at = scanner
                .find_from(lt + 4, "-->")
                .map_or(html.len(), |end| end + 3);
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") || rest.starts_with("</") {
            scanner.at = scanner
                .find_from(lt + 1, ">")
                .map_or(html.len(), |end| end + 1);
            continue;
        }
        let name_len = rest[1..]
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '-')
            .unwrap_or(rest.len() - 1);
        if name_len == 0 {
            scanner.at = lt + 1;
            continue;
        }
        let name = rest[1..1 + name_len].to_ascii_lowercase();
        scanner.at = lt + 1 + name_len;
        let attributes = scanner.attributes();
        let content_start = scanner.at;
        match name.as_str() {
            "script" => {
                let end = scanner.skip_raw_text("script");
                let body = &html[content_start.min(end)..end];
                if found.len() >= MAX_PAGE_SCRIPTS {
                    more = true;
                    continue;
                }
                found.push(script_tag(&attributes, body, line_of(html, lt)));
            }
            "style" | "textarea" | "title" | "xmp" | "iframe" | "noembed" | "noframes"
            | "noscript" | "template" | "plaintext" => {
                scanner.skip_raw_text(&name);
            }
            _ => {}
        }
    }
    (found, more)
}

fn line_of(html: &str, at: usize) -> usize {
    html[..at].matches('\n').count() + 1
}

fn script_tag(attributes: &[(String, String)], body: &str, line: usize) -> ScriptTag {
    let get = |name: &str| {
        attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let kind = match (get("type"), get("language")) {
        (Some(t), _) if !t.trim().is_empty() => kind_of_type(t),
        (None, Some(l)) if !l.trim().is_empty() => kind_of_type(&format!("text/{l}")),
        _ => ScriptKind::Classic,
    };
    let kind = if kind == ScriptKind::Classic && get("nomodule").is_some() {
        ScriptKind::NotRun
    } else {
        kind
    };
    ScriptTag {
        src: get("src").map(str::to_owned),
        kind,
        defer: get("defer").is_some(),
        is_async: get("async").is_some(),
        line,
        inline: !body.trim().is_empty(),
    }
}

/// A `type` attribute: a JavaScript MIME type essence (HTML's list), `module`, or neither.
fn kind_of_type(value: &str) -> ScriptKind {
    let value = value.trim().to_ascii_lowercase();
    if value == "module" {
        return ScriptKind::Module;
    }
    const JAVASCRIPT: [&str; 16] = [
        "application/ecmascript",
        "application/javascript",
        "application/x-ecmascript",
        "application/x-javascript",
        "text/ecmascript",
        "text/javascript",
        "text/javascript1.0",
        "text/javascript1.1",
        "text/javascript1.2",
        "text/javascript1.3",
        "text/javascript1.4",
        "text/javascript1.5",
        "text/jscript",
        "text/livescript",
        "text/x-ecmascript",
        "text/x-javascript",
    ];
    if JAVASCRIPT.contains(&value.as_str()) {
        ScriptKind::Classic
    } else {
        ScriptKind::NotRun
    }
}

struct Scanner<'a> {
    html: &'a str,
    /// `html` in ASCII lowercase (the same byte offsets).
    lower: &'a str,
    at: usize,
}

impl Scanner<'_> {
    fn find(&self, what: &str) -> Option<usize> {
        self.find_from(self.at, what)
    }

    fn find_from(&self, from: usize, what: &str) -> Option<usize> {
        self.html.get(from..)?.find(what).map(|i| i + from)
    }

    /// The attributes of the tag whose name was just read; leaves the scanner after its `>`.
    /// The first of two attributes of one name wins, as in HTML.
    fn attributes(&mut self) -> Vec<(String, String)> {
        let bytes = self.html.as_bytes();
        let mut attributes: Vec<(String, String)> = Vec::new();
        let mut i = self.at;
        loop {
            while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
                i += 1;
            }
            if i >= bytes.len() {
                break;
            }
            if bytes[i] == b'>' {
                i += 1;
                break;
            }
            let start = i;
            while i < bytes.len()
                && !bytes[i].is_ascii_whitespace()
                && !matches!(bytes[i], b'/' | b'>' | b'=')
            {
                i += 1;
            }
            let name = self.html[start..i].to_ascii_lowercase();
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let mut value = String::new();
            if i < bytes.len() && bytes[i] == b'=' {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                    let quote = bytes[i];
                    let begin = i + 1;
                    let end = self.html[begin..]
                        .find(quote as char)
                        .map_or(bytes.len(), |e| e + begin);
                    value = decode_references(&self.html[begin..end]);
                    i = (end + 1).min(bytes.len());
                } else {
                    let begin = i;
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                        i += 1;
                    }
                    value = decode_references(&self.html[begin..i]);
                }
            }
            if !name.is_empty() && !attributes.iter().any(|(n, _)| *n == name) {
                attributes.push((name, value));
            }
        }
        self.at = i;
        attributes
    }

    /// Skips to the end of `</name>` (ASCII case-insensitive); gives where that end tag
    /// began (the end of the element's text).
    fn skip_raw_text(&mut self, name: &str) -> usize {
        let lower = self.lower;
        let close = format!("</{name}");
        let mut from = self.at;
        loop {
            let Some(found) = lower.get(from..).and_then(|s| s.find(&close)) else {
                self.at = self.html.len();
                return self.html.len();
            };
            let begin = from + found;
            let after = begin + close.len();
            let next = lower.as_bytes().get(after).copied();
            if next.is_none()
                || matches!(
                    next,
                    Some(b'>' | b'/') | Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
                )
            {
                self.at = self
                    .find_from(after, ">")
                    .map_or(self.html.len(), |e| e + 1);
                return begin;
            }
            from = after;
        }
    }
}

/// An attribute value with its character references decoded (the common named ones and
/// numeric ones).
fn decode_references(value: &str) -> String {
    if !value.contains('&') {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest.find(';').filter(|&e| e <= 12);
        let decoded = end.and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => {
                    let number = name.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    Some(char::from_u32(code).unwrap_or('\u{fffd}'))
                }
            };
            c.map(|c| (c, end + 1))
        });
        match decoded {
            Some((c, used)) => {
                out.push(c);
                rest = &rest[used..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn srcs(html: &str) -> Vec<(Option<String>, ScriptKind)> {
        scripts(html)
            .0
            .into_iter()
            .map(|t| (t.src, t.kind))
            .collect()
    }

    #[test]
    fn script_elements_in_document_order_with_their_kind() {
        let html = r#"<!doctype html><html><head>
            <SCRIPT src="a.js"></SCRIPT>
            <script type="module" src='m.js'></script>
            <script src=b.js defer></script>
            <script type="text/template" src="t.js"></script>
            <script type="application/json">{"a": 1}</script>
            <script nomodule src="legacy.js"></script>
            <script src="x.js?v=1&amp;w=2" async></script>
        </head></html>"#;
        let found = srcs(html);
        assert_eq!(
            found,
            [
                (Some("a.js".into()), ScriptKind::Classic),
                (Some("m.js".into()), ScriptKind::Module),
                (Some("b.js".into()), ScriptKind::Classic),
                (Some("t.js".into()), ScriptKind::NotRun),
                (None, ScriptKind::NotRun),
                (Some("legacy.js".into()), ScriptKind::NotRun),
                (Some("x.js?v=1&w=2".into()), ScriptKind::Classic),
            ]
        );
        let phases: Vec<u8> = scripts(html).0.iter().map(ScriptTag::phase).collect();
        assert_eq!(phases, [0, 1, 1, 0, 0, 0, 2]);
    }

    #[test]
    fn comments_raw_text_and_inline_bodies() {
        let html = "<!-- <script src=\"no.js\"></script> -->\n<style>/* <script src=no2.js> */</style>\n<script>\n  var inline = '</scrip' + 't>';\n</script>\n<textarea><script src=no3.js></script></textarea>\n<script src=\"yes.js\"></script>";
        let (found, more) = scripts(html);
        assert!(!more);
        assert_eq!(found.len(), 2);
        assert!(found[0].inline && found[0].src.is_none());
        assert_eq!(found[0].line, 3);
        assert_eq!(found[1].src.as_deref(), Some("yes.js"));
        assert_eq!(found[1].line, 7);
    }

    #[test]
    fn unterminated_input_ends_the_scan() {
        assert_eq!(srcs("<script src=\"a.js\"").len(), 1);
        assert_eq!(srcs("<script src='a.js'>var x").len(), 1);
        assert_eq!(srcs("<!-- never closed <script src=a.js>").len(), 0);
        assert_eq!(srcs("<<<>>>&&&").len(), 0);
    }

    #[test]
    fn character_references_in_values() {
        assert_eq!(
            decode_references("a&amp;b&#47;c&#x2F;d&bogus;&"),
            "a&b/c/d&bogus;&"
        );
    }
}
