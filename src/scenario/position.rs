//! Where in a scenario file: JSON paths (`timeline[3].in_view.do[0]`) and the line and column
//! at which a path's value starts.

use std::fmt;

use jsonc_parser::ast::Value as Node;
use jsonc_parser::common::Ranged;
use jsonc_parser::{CollectOptions, ParseOptions};

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
/// `None` if `text` is not JSON.
pub fn locate(text: &str, path: &JsonPath) -> Option<(usize, usize)> {
    let parsed =
        jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &ParseOptions::default())
            .ok()?;
    let mut node = parsed.value.as_ref()?;
    for segment in path.segments() {
        let next = match (segment, node) {
            (Segment::Key(key), Node::Object(object)) => object
                .properties
                .iter()
                .rev()
                .find(|p| p.name.as_str() == key)
                .map(|p| &p.value),
            (Segment::Index(index), Node::Array(array)) => array.elements.get(*index),
            _ => None,
        };
        match next {
            Some(next) => node = next,
            None => break,
        }
    }
    Some(line_column(text, node.start()))
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
    }
}
