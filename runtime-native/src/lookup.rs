//! Finding a host's manifest: `<name>.json` in the user-level folder, then the system
//! folder(s) of §5.3, after any folders the caller adds.
//!
//! Lookup reads small files with blocking `std::fs` calls; it is quick enough to run
//! inside async code. A manifest is read only if it is a regular file of at most
//! [`MAX_HOST_MANIFEST_SIZE`] bytes: a FIFO, a device or a larger file is "not found" at once,
//! with the reason in [`NotFoundReason::Unreadable`].

use std::path::{Path, PathBuf};

use crate::browser::BrowserKind;
use crate::errors::{NativeError, NotFoundReason};
use crate::file::read_regular_file;
use crate::manifest::{HostManifest, HostManifestError};

/// The largest host manifest read: 1 MiB. A manifest names a host and the extensions allowed
/// to use it, a few hundred bytes; Chrome and Firefox set no limit of their own, and a larger
/// file (or `/dev/zero`) is "not found" here rather than read without end.
pub const MAX_HOST_MANIFEST_SIZE: u64 = 1024 * 1024;

/// The operating systems whose manifest folders are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Os {
    /// Linux (and other XDG-style Unix systems).
    Linux,
    /// macOS.
    MacOs,
}

impl Os {
    /// The OS this program runs on, if its folders are known.
    pub fn current() -> Option<Os> {
        if cfg!(target_os = "macos") {
            Some(Os::MacOs)
        } else if cfg!(target_os = "linux") {
            Some(Os::Linux)
        } else {
            None
        }
    }
}

/// The browser's default manifest folders on `os`, user-level first (only when `home` is
/// known), then system-wide — the table of §5.3.
pub fn default_dirs(browser: BrowserKind, os: Os, home: Option<&Path>) -> Vec<PathBuf> {
    let (user, system): (&str, &[&str]) = match (browser, os) {
        (BrowserKind::Chrome, Os::Linux) => (
            ".config/google-chrome/NativeMessagingHosts",
            &["/etc/opt/chrome/native-messaging-hosts"],
        ),
        (BrowserKind::Chromium, Os::Linux) => (
            ".config/chromium/NativeMessagingHosts",
            &["/etc/chromium/native-messaging-hosts"],
        ),
        (BrowserKind::Firefox, Os::Linux) => (
            ".mozilla/native-messaging-hosts",
            &[
                "/usr/lib/mozilla/native-messaging-hosts",
                "/usr/lib64/mozilla/native-messaging-hosts",
            ],
        ),
        (BrowserKind::Chrome, Os::MacOs) => (
            "Library/Application Support/Google/Chrome/NativeMessagingHosts",
            &["/Library/Google/Chrome/NativeMessagingHosts"],
        ),
        (BrowserKind::Chromium, Os::MacOs) => (
            "Library/Application Support/Chromium/NativeMessagingHosts",
            &["/Library/Application Support/Chromium/NativeMessagingHosts"],
        ),
        (BrowserKind::Firefox, Os::MacOs) => (
            "Library/Application Support/Mozilla/NativeMessagingHosts",
            &["/Library/Application Support/Mozilla/NativeMessagingHosts"],
        ),
    };
    home.map(|home| home.join(user))
        .into_iter()
        .chain(system.iter().map(PathBuf::from))
        .collect()
}

/// A manifest that was found, read and validated for the requested name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundHost {
    /// The manifest file (absolute).
    pub manifest_path: PathBuf,
    /// The parsed, validated manifest.
    pub manifest: HostManifest,
}

/// Where to look for host manifests.
///
/// ```
/// use runtime_native::{BrowserKind, Lookup};
/// let lookup = Lookup::new(BrowserKind::Chrome)
///     .dir("/tmp/test-hosts")
///     .without_default_dirs();
/// assert_eq!(lookup.search_dirs(), vec![std::path::PathBuf::from("/tmp/test-hosts")]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    browser: BrowserKind,
    extra_dirs: Vec<PathBuf>,
    default_dirs: bool,
    home: Option<PathBuf>,
    os: Option<Os>,
}

impl Lookup {
    /// The browser's default folders for this OS, with the home folder from `$HOME`.
    pub fn new(browser: BrowserKind) -> Lookup {
        Lookup {
            browser,
            extra_dirs: Vec::new(),
            default_dirs: true,
            home: std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from),
            os: Os::current(),
        }
    }

    /// Searches only `dirs`, in order, never the browser's own folders: what a test wants, so
    /// that it does not find (or depend on) the hosts installed on the machine.
    ///
    /// ```
    /// use runtime_native::{BrowserKind, Lookup};
    ///
    /// let lookup = Lookup::only(BrowserKind::Firefox, ["/tmp/a", "/tmp/b"]);
    /// assert_eq!(lookup.search_dirs().len(), 2);
    /// assert!(Lookup::only(BrowserKind::Chrome, Vec::<String>::new())
    ///     .search_dirs()
    ///     .is_empty());
    /// ```
    pub fn only(
        browser: BrowserKind,
        dirs: impl IntoIterator<Item = impl Into<PathBuf>>,
    ) -> Lookup {
        dirs.into_iter().fold(
            Lookup::new(browser).without_default_dirs(),
            |lookup, dir| lookup.dir(dir),
        )
    }

    /// Adds a folder searched before the default ones (in the order added).
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Lookup {
        self.extra_dirs.push(dir.into());
        self
    }

    /// Searches only the added folders.
    pub fn without_default_dirs(mut self) -> Lookup {
        self.default_dirs = false;
        self
    }

    /// Uses `home` instead of `$HOME` for the user-level folder.
    pub fn home(mut self, home: impl Into<PathBuf>) -> Lookup {
        self.home = Some(home.into());
        self
    }

    /// Uses the folders of `os` instead of the current OS's.
    pub fn os(mut self, os: Os) -> Lookup {
        self.os = Some(os);
        self
    }

    /// The browser whose rules apply.
    pub fn browser(&self) -> BrowserKind {
        self.browser
    }

    /// The folders searched, in order.
    pub fn search_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = self.extra_dirs.clone();
        if let (true, Some(os)) = (self.default_dirs, self.os) {
            dirs.extend(default_dirs(self.browser, os, self.home.as_deref()));
        }
        dirs
    }

    /// Finds, reads and validates the manifest of host `name`.
    ///
    /// The name is checked first (`Invalid native messaging host name specified.`); the
    /// first folder holding `<name>.json` is used, and a bad manifest there is "not found"
    /// — later folders are not tried.
    pub fn find(&self, name: &str) -> Result<FoundHost, NativeError> {
        if !self.browser.is_valid_host_name(name) {
            return Err(NativeError::InvalidName {
                name: name.to_owned(),
            });
        }
        let file = format!("{name}.json");
        let searched = self.search_dirs();
        for dir in &searched {
            let candidate = dir.join(&file);
            if candidate.exists() {
                return load_manifest(&candidate, self.browser, name);
            }
        }
        Err(NativeError::NotFound {
            browser: self.browser,
            name: name.to_owned(),
            reason: NotFoundReason::NoManifest { searched },
        })
    }
}

/// Reads the manifest at `path` directly and validates it for host `requested`.
///
/// A file that is not a regular file of at most [`MAX_HOST_MANIFEST_SIZE`] bytes is
/// [`NotFoundReason::Unreadable`], as a file that cannot be read: Chrome's error is then
/// `Specified native messaging host not found.`
pub fn load_manifest(
    path: &Path,
    browser: BrowserKind,
    requested: &str,
) -> Result<FoundHost, NativeError> {
    if !browser.is_valid_host_name(requested) {
        return Err(NativeError::InvalidName {
            name: requested.to_owned(),
        });
    }
    let not_found = |reason| NativeError::NotFound {
        browser,
        name: requested.to_owned(),
        reason,
    };
    let manifest_path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let text = read_regular_file(&manifest_path, MAX_HOST_MANIFEST_SIZE).map_err(|source| {
        not_found(NotFoundReason::Unreadable {
            path: manifest_path.clone(),
            source,
        })
    })?;
    let invalid = |source: HostManifestError| {
        not_found(NotFoundReason::InvalidManifest {
            path: manifest_path.clone(),
            source,
        })
    };
    let manifest = HostManifest::from_json(&text).map_err(invalid)?;
    manifest.validate_for(browser, requested).map_err(invalid)?;
    Ok(FoundHost {
        manifest_path,
        manifest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_folders() {
        let home = Path::new("/home/u");
        assert_eq!(
            default_dirs(BrowserKind::Chrome, Os::Linux, Some(home)),
            vec![
                PathBuf::from("/home/u/.config/google-chrome/NativeMessagingHosts"),
                PathBuf::from("/etc/opt/chrome/native-messaging-hosts"),
            ]
        );
        assert_eq!(
            default_dirs(BrowserKind::Firefox, Os::Linux, None),
            vec![
                PathBuf::from("/usr/lib/mozilla/native-messaging-hosts"),
                PathBuf::from("/usr/lib64/mozilla/native-messaging-hosts"),
            ]
        );
        assert_eq!(
            default_dirs(BrowserKind::Chromium, Os::MacOs, Some(home)),
            vec![
                PathBuf::from("/home/u/Library/Application Support/Chromium/NativeMessagingHosts"),
                PathBuf::from("/Library/Application Support/Chromium/NativeMessagingHosts"),
            ]
        );
    }

    #[test]
    fn extra_dirs_come_first() {
        let lookup = Lookup::new(BrowserKind::Firefox)
            .dir("/a")
            .dir("/b")
            .home("/h")
            .os(Os::Linux);
        let dirs = lookup.search_dirs();
        assert_eq!(dirs[0], PathBuf::from("/a"));
        assert_eq!(dirs[1], PathBuf::from("/b"));
        assert_eq!(dirs[2], PathBuf::from("/h/.mozilla/native-messaging-hosts"));
        assert_eq!(dirs.len(), 5);
    }
}
