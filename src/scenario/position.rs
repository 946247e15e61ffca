//! Where in a scenario file: JSON paths (`timeline[3].in_view.do[0]`) and the line and column
//! at which a path's value starts.

use std::fmt;

/// A path into a scenario file: object keys and array indices from the top.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JsonPath(Vec<Segment>);

/// One step of a [`JsonPath`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// An object's key.
    Key(String),
    /// An array's index.
    Index(usize),
}

impl JsonPath {
    /// The top of the file.
    pub fn root() -> JsonPath {
        JsonPath::default()
    }

    /// This path, then an object key.
    pub fn key(&self, key: &str) -> JsonPath {
        let mut path = self.clone();
        path.0.push(Segment::Key(key.to_owned()));
        path
    }

    /// This path, then an array index.
    pub fn index(&self, index: usize) -> JsonPath {
        let mut path = self.clone();
        path.0.push(Segment::Index(index));
        path
    }

    /// The segments, from the top.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// The path of a deserialization error.
    pub fn from_serde(path: &serde_path_to_error::Path) -> JsonPath {
        use serde_path_to_error::Segment as S;
        let segments = path
            .iter()
            .filter_map(|segment| match segment {
                S::Seq { index } => Some(Segment::Index(*index)),
                S::Map { key } => Some(Segment::Key(key.clone())),
                S::Enum { variant } => Some(Segment::Key(variant.clone())),
                S::Unknown => None,
            })
            .collect();
        JsonPath(segments)
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Key(key) if is_plain(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(key)?;
                }
                Segment::Key(key) => write!(f, "[{}]", serde_json::Value::from(key.as_str()))?,
            }
        }
        Ok(())
    }
}

/// Whether a key can be written after a dot.
fn is_plain(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// The line and column (both from 1) where the value at `path` starts in `text`, or where the
/// deepest part of the path that exists starts (for a missing key: the object that lacks it).
/// `None` if `text` is not JSON along the way.
///
/// The text is scanned, not parsed: memory stays constant whatever the file's size (a tree of
/// a large file's values would take many times the file), and time is one pass at most. Of
/// keys given twice, the last counts, as when the file was read.
pub fn locate(text: &str, path: &JsonPath) -> Option<(usize, usize)> {
    let scan = Scan(text.as_bytes());
    let mut at = scan.blank(0);
    scan.value_end(at)?;
    for segment in path.segments() {
        let next = match (segment, scan.0.get(at)) {
            (Segment::Key(key), Some(b'{')) => scan.member(text, at, key)?,
            (Segment::Index(index), Some(b'[')) => scan.element(at, *index)?,
            _ => None,
        };
        match next {
            Some(next) => at = next,
            None => break,
        }
    }
    Some(line_column(text, at))
}

/// A JSON text, walked by byte offsets. Every function returns `None` on text that is not
/// JSON.
struct Scan<'a>(&'a [u8]);

impl Scan<'_> {
    /// The offset of the first byte at or after `at` that is not white space.
    fn blank(&self, mut at: usize) -> usize {
        while matches!(self.0.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            at += 1;
        }
        at
    }

    /// The offset just after the value that starts at `at`.
    fn value_end(&self, at: usize) -> Option<usize> {
        match self.0.get(at)? {
            b'"' => self.string_end(at),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut i = at;
                loop {
                    match self.0.get(i)? {
                        b'"' => {
                            i = self.string_end(i)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(i + 1);
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            _ => {
                // A number, `true`, `false` or `null`.
                let mut i = at;
                while self
                    .0
                    .get(i)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.'))
                {
                    i += 1;
                }
                (i > at).then_some(i)
            }
        }
    }

    /// The offset just after the string whose opening quote is at `at`.
    fn string_end(&self, at: usize) -> Option<usize> {
        let mut i = at + 1;
        loop {
            match self.0.get(i)? {
                b'\\' => i += 2,
                b'"' => return Some(i + 1),
                _ => i += 1,
            }
        }
    }

    /// In the object at `at`: where the value of the last member named `key` starts, if any.
    fn member(&self, text: &str, at: usize, key: &str) -> Option<Option<usize>> {
        let mut found = None;
        let mut i = self.blank(at + 1);
        if self.0.get(i) == Some(&b'}') {
            return Some(None);
        }
        loop {
            let name_end = self
                .string_end(i)
                .filter(|_| self.0.get(i) == Some(&b'"'))?;
            let raw = text.get(i..name_end)?;
            let same = if raw.contains('\\') {
                serde_json::from_str::<String>(raw).ok()? == key
            } else {
                &raw[1..raw.len() - 1] == key
            };
            i = self.blank(name_end);
            if self.0.get(i) != Some(&b':') {
                return None;
            }
            let value = self.blank(i + 1);
            if same {
                found = Some(value);
            }
            i = self.blank(self.value_end(value)?);
            match self.0.get(i)? {
                b',' => i = self.blank(i + 1),
                b'}' => return Some(found),
                _ => return None,
            }
        }
    }

    /// In the array at `at`: where its element `index` starts, if it has one.
    fn element(&self, at: usize, index: usize) -> Option<Option<usize>> {
        let mut i = self.blank(at + 1);
        if self.0.get(i) == Some(&b']') {
            return Some(None);
        }
        for n in 0.. {
            if n == index {
                return Some(Some(i));
            }
            i = self.blank(self.value_end(i)?);
            match self.0.get(i)? {
                b',' => i = self.blank(i + 1),
                b']' => return Some(None),
                _ => return None,
            }
        }
        None
    }
}

/// The line and column (from 1, counting characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "{\n  \"timeline\": [\n    \"start\",\n    {\"advance\": \"10s\"}\n  ],\n  \"native_hosts\": {\"com.example.a\": {}}\n}";

    #[test]
    fn paths_display_like_javascript() {
        let path = JsonPath::root()
            .key("timeline")
            .index(3)
            .key("in_view")
            .key("do");
        assert_eq!(path.to_string(), "timeline[3].in_view.do");
        let host = JsonPath::root().key("native_hosts").key("com.example.a");
        assert_eq!(host.to_string(), "native_hosts[\"com.example.a\"]");
        assert_eq!(JsonPath::root().to_string(), "(top level)");
    }

    #[test]
    fn values_are_located_by_path() {
        let advance = JsonPath::root().key("timeline").index(1).key("advance");
        assert_eq!(locate(TEXT, &advance), Some((4, 17)));
        let start = JsonPath::root().key("timeline").index(0);
        assert_eq!(locate(TEXT, &start), Some((3, 5)));
        let host = JsonPath::root().key("native_hosts").key("com.example.a");
        assert_eq!(locate(TEXT, &host), Some((6, 37)));
        // A missing key: where the object that lacks it starts.
        let missing = JsonPath::root().key("timeline").index(1).key("nothing");
        assert_eq!(locate(TEXT, &missing), Some((4, 5)));
        // Past the end of an array: the array.
        let beyond = JsonPath::root().key("timeline").index(9);
        assert_eq!(locate(TEXT, &beyond), Some((2, 15)));
    }

    #[test]
    fn strings_escapes_and_repeated_keys() {
        let text =
            r#"{"a": "}]\"{[", "k\u0065y": [1, {"x": 2}], "d": 1, "d": [true, null, -1.5e3]}"#;
        let path = |segments: &[Segment]| JsonPath(segments.to_vec());
        let key = |k: &str| Segment::Key(k.to_owned());
        // A key written with an escape is the key it decodes to.
        assert_eq!(
            locate(text, &path(&[key("key"), Segment::Index(1), key("x")])),
            Some((1, 39))
        );
        // The last of two "d"s, and the elements after a literal.
        assert_eq!(locate(text, &path(&[key("d")])), Some((1, 57)));
        assert_eq!(
            locate(text, &path(&[key("d"), Segment::Index(2)])),
            Some((1, 70))
        );
        assert_eq!(locate("{\"a\": ", &path(&[key("a")])), None);
        assert_eq!(locate("", &JsonPath::root()), None);
    }
}
