//! Extension ids, computed as Chromium does (`components/crx_file/id_util.cc`).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The 32-character id of an extension (`chrome.runtime.id`): letters `a`–`p` only.
///
/// It is one pointer wide (the 32 letters are shared, behind a thin pointer), so that the
/// trace entries and contexts that name an extension stay small.
///
/// ```
/// use runtime_core::ExtensionId;
///
/// // The vector of Chromium's own unit test.
/// assert_eq!(ExtensionId::from_bytes(b"test").as_str(), "jpignaibiiemhngfjkcpokkamffknabf");
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExtensionId(Arc<[u8; 32]>);

/// Why a manifest's `key` gives no id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key is not valid base64 (after removing a PEM header and footer and white space).
    #[error("the manifest's \"key\" is not valid base64: {0}")]
    NotBase64(String),
    /// The key decodes to nothing.
    #[error("the manifest's \"key\" is empty")]
    Empty,
}

impl ExtensionId {
    /// The id of an arbitrary input: SHA-256, the first 16 bytes, in hex, with each hex digit
    /// `0`–`f` mapped to `a`–`p`.
    pub fn from_bytes(input: &[u8]) -> ExtensionId {
        let digest = Sha256::digest(input);
        let mut id = [0u8; 32];
        for (pair, byte) in id.chunks_exact_mut(2).zip(&digest[..16]) {
            pair[0] = b'a' + (byte >> 4);
            pair[1] = b'a' + (byte & 0x0f);
        }
        ExtensionId(Arc::new(id))
    }

    /// The id given by a manifest's base64 `key` (a DER public key). A PEM header and footer
    /// (`-----BEGIN PUBLIC KEY-----` …) and white space are allowed and ignored.
    pub fn from_key(key: &str) -> Result<ExtensionId, KeyError> {
        let der = decode_key(key)?;
        Ok(ExtensionId::from_bytes(&der))
    }

    /// The id of an unpacked extension with no `key`: from the bytes of its absolute path
    /// (UTF-8 on POSIX).
    pub fn from_path(absolute_path: &Path) -> ExtensionId {
        ExtensionId::from_bytes(absolute_path.to_string_lossy().as_bytes())
    }

    /// Parses an id given as text, e.g. by a message's target. `None` unless it is 32 letters
    /// `a`–`p`.
    pub fn parse(text: &str) -> Option<ExtensionId> {
        let letters: [u8; 32] = text.as_bytes().try_into().ok()?;
        ExtensionId::is_valid(text).then(|| ExtensionId(Arc::new(letters)))
    }

    /// Whether `text` has the form of an extension id.
    pub fn is_valid(text: &str) -> bool {
        text.len() == 32 && text.bytes().all(|b| (b'a'..=b'p').contains(&b))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Every constructor checks (or makes) 32 letters `a`–`p`: always UTF-8.
        std::str::from_utf8(&self.0[..]).unwrap_or_default()
    }
}

fn decode_key(key: &str) -> Result<Vec<u8>, KeyError> {
    let body: String = key
        .lines()
        .map(str::trim)
        .filter(|line| !(line.starts_with("-----BEGIN") || line.starts_with("-----END")))
        .flat_map(|line| line.chars().filter(|c| !c.is_whitespace()))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|e| KeyError::NotBase64(e.to_string()))?;
    if der.is_empty() {
        return Err(KeyError::Empty);
    }
    Ok(der)
}

impl fmt::Display for ExtensionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ExtensionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExtensionId({})", self.as_str())
    }
}

impl AsRef<str> for ExtensionId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl serde::Serialize for ExtensionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector from Chromium's `id_util_unittest.cc`.
    #[test]
    fn chromium_vector_for_test() {
        assert_eq!(
            ExtensionId::from_bytes(b"test").as_str(),
            "jpignaibiiemhngfjkcpokkamffknabf"
        );
    }

    #[test]
    fn pem_header_and_line_breaks_are_ignored() {
        let bare = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDAQt2ZDdPfoSe/JI6ID5bgLHRCnCu9T36aYczmhw/tnv6QZB2I6WnOCMZXJZlRdqWc7w9jo4BWhYS50Vb4weMfh/I0On7VcRwJUgfAxW2cHB+EkmtI1v4v/OU24OqIa1Nmv9uRVeX0GjhQukdLNhAE6ACWooaf5kqKlCeK+1GOkQIDAQAB";
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n{}\n-----END PUBLIC KEY-----\n",
            &bare[..64],
            &bare[64..]
        );
        let id = ExtensionId::from_key(bare).unwrap();
        assert_eq!(id, ExtensionId::from_key(&pem).unwrap());
        assert_eq!(id.as_str(), "nkeimhogjdpnpccoofpliimaahmaaome");
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(matches!(
            ExtensionId::from_key("not base64!"),
            Err(KeyError::NotBase64(_))
        ));
        assert_eq!(ExtensionId::from_key(""), Err(KeyError::Empty));
    }

    #[test]
    fn an_id_is_one_pointer_wide() {
        assert_eq!(std::mem::size_of::<ExtensionId>(), 8);
        assert_eq!(std::mem::size_of::<Option<ExtensionId>>(), 8);
    }

    #[test]
    fn parse_checks_the_alphabet_and_length() {
        assert!(ExtensionId::parse("jpignaibiiemhngfjkcpokkamffknabf").is_some());
        assert!(ExtensionId::parse("jpignaibiiemhngfjkcpokkamffknabz").is_none());
        assert!(ExtensionId::parse("abc").is_none());
    }
}
