//! What goes wrong with a scenario file: where (the file, the JSON path, the line and column)
//! and what was expected.

use std::fmt;
use std::path::{Path, PathBuf};

use super::position::{locate, JsonPath};

/// A scenario file that cannot be loaded (it is not JSON, has a wrong type, a missing field,
/// an unknown step, a reference to something it does not declare, …) or a step that could not
/// be carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file.
    pub file: PathBuf,
    /// Where in the file.
    pub path: JsonPath,
    /// The line and column (from 1) where the value at `path` starts, if the file is JSON.
    pub position: Option<(usize, usize)>,
    /// What is wrong, and what was expected.
    pub message: String,
}

impl ScenarioError {
    /// An error at `path` in the file whose text is `text`.
    pub fn at(file: &Path, text: &str, path: JsonPath, message: impl Into<String>) -> Self {
        ScenarioError {
            file: file.to_path_buf(),
            position: locate(text, &path),
            path,
            message: message.into(),
        }
    }

    /// An error about the file as a whole (it cannot be read).
    pub fn file(file: &Path, message: impl Into<String>) -> Self {
        ScenarioError {
            file: file.to_path_buf(),
            path: JsonPath::root(),
            position: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        if self.position.is_some() || !self.path.segments().is_empty() {
            write!(f, ": at {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// An error of the declared code found while the scenario runs (a tab it names is not open):
/// where the action is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionError {
    /// The action's path in the file.
    pub path: JsonPath,
    /// What is wrong.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file_the_path_the_line_and_the_column() {
        let text = "{\n  \"timeline\": [\"start\", {\"jump\": 1}]\n}";
        let path = JsonPath::root().key("timeline").index(1);
        let err = ScenarioError::at(Path::new("s.json"), text, path, "unknown step `jump`");
        assert_eq!(
            err.to_string(),
            "s.json:2:25: at timeline[1]: unknown step `jump`"
        );
        let err = ScenarioError::file(Path::new("gone.json"), "cannot read it");
        assert_eq!(err.to_string(), "gone.json: cannot read it");
    }
}
