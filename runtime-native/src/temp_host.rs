//! A native host registered for a test in one call: its program and its manifest in a
//! temporary folder of its own, found by a launcher that searches only that folder.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard};

use crate::browser::BrowserKind;
use crate::launch::Launcher;
use crate::lookup::Lookup;
use crate::manifest::HostManifest;

/// Writing an executable while another thread of this process forks can leave a copy of the
/// write descriptor in the child until it execs, and starting the file then fails with
/// `ETXTBSY`. [`TempHost`] writes its script holding this lock exclusively; hosts are started
/// ([`Launch::spawn`](crate::Launch::spawn)) holding it shared.
static EXEC_LOCK: RwLock<()> = RwLock::new(());

/// Taken (shared) while a host process is started.
pub(crate) fn exec_guard() -> RwLockReadGuard<'static, ()> {
    EXEC_LOCK.read().unwrap_or_else(|e| e.into_inner())
}

/// A native messaging host that exists for as long as this value: a folder of its own in the
/// system's temporary folder holding the host's manifest (`<name>.json`, in the form `browser`
/// reads) and, for [`script`](Self::script), its program. The folder is removed on drop.
///
/// [`launcher`](Self::launcher) finds this host and no other: it does not search the
/// machine's real manifest folders.
///
/// ```
/// use runtime_native::{BrowserKind, TempHost};
///
/// let extension = "knldjmfmopnpolahpmmgbagdohdnhkik";
/// // `cat` sends every frame back as it came: an echo host.
/// let host = TempHost::script(BrowserKind::Chrome, "com.example.echo", "exec cat", &[extension])
///     .unwrap();
/// let launcher = host.launcher();
///
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// let reply = runtime
///     .block_on(launcher.send_native_message("com.example.echo", extension, &"hello"))
///     .unwrap();
/// assert_eq!(reply.message, "hello");
/// let exit = runtime.block_on(reply.closing).unwrap();
/// assert_eq!(exit.code(), Some(0)); // cat ends at end of file
///
/// let dir = host.dir().to_path_buf();
/// drop(host);
/// assert!(!dir.exists());
/// ```
#[derive(Debug)]
pub struct TempHost {
    dir: PathBuf,
    browser: BrowserKind,
    manifest_path: PathBuf,
    manifest: HostManifest,
}

impl TempHost {
    /// A host that is a `/bin/sh` script: `body` after a `#!/bin/sh` line, written as
    /// `host.sh` in the host's folder (which is its working folder). `allowed` lists the
    /// extensions that may use it (Chrome: extension ids, written as
    /// `chrome-extension://<id>/` origins; Firefox: add-on ids); it may be empty, and then
    /// every caller is forbidden.
    ///
    /// Fails with [`io::ErrorKind::InvalidInput`] when `name` breaks `browser`'s host name
    /// rule, or with the error of creating the files.
    pub fn script(
        browser: BrowserKind,
        name: &str,
        body: &str,
        allowed: &[&str],
    ) -> io::Result<TempHost> {
        check_name(browser, name)?;
        let dir = make_dir()?;
        let executable = dir.join("host.sh");
        // From here on, a failure drops the host, which removes the folder.
        let host = TempHost::register(dir, browser, name, executable.clone(), allowed)?;
        write_executable(&executable, format!("#!/bin/sh\n{body}\n").as_bytes())?;
        host.write_manifest()?;
        Ok(host)
    }

    /// A host that runs the executable `program` (an absolute path; it is not copied). The
    /// rest is as for [`script`](Self::script).
    pub fn program(
        browser: BrowserKind,
        name: &str,
        program: impl AsRef<Path>,
        allowed: &[&str],
    ) -> io::Result<TempHost> {
        check_name(browser, name)?;
        let program = program.as_ref();
        if !program.is_absolute() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "the host program {} is not an absolute path, as a host manifest's \"path\" must be",
                    program.display()
                ),
            ));
        }
        let host = TempHost::register(make_dir()?, browser, name, program.into(), allowed)?;
        host.write_manifest()?;
        Ok(host)
    }

    fn register(
        dir: PathBuf,
        browser: BrowserKind,
        name: &str,
        executable: PathBuf,
        allowed: &[&str],
    ) -> io::Result<TempHost> {
        let mut manifest =
            HostManifest::new(name, "a temporary native host (TempHost)", executable);
        match browser {
            BrowserKind::Firefox => manifest.allowed_extensions = Some(Vec::new()),
            BrowserKind::Chrome | BrowserKind::Chromium => {
                manifest.allowed_origins = Some(Vec::new());
            }
        }
        let manifest = allowed
            .iter()
            .fold(manifest, |manifest, id| manifest.allow(browser, id));
        let host = TempHost {
            manifest_path: dir.join(format!("{name}.json")),
            dir,
            browser,
            manifest,
        };
        host.manifest
            .validate_for(browser, name)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(host)
    }

    fn write_manifest(&self) -> io::Result<()> {
        fs::write(&self.manifest_path, self.manifest.to_json_pretty())
    }

    /// The host's name.
    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    /// The browser whose manifest form was written.
    pub fn browser(&self) -> BrowserKind {
        self.browser
    }

    /// The host's folder (removed on drop): the one folder [`lookup`](Self::lookup) searches.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest file, `<dir>/<name>.json`.
    pub fn manifest_path(&self) -> &Path {
        &self.manifest_path
    }

    /// The manifest that was written.
    pub fn manifest(&self) -> &HostManifest {
        &self.manifest
    }

    /// The program the manifest names.
    pub fn executable(&self) -> &Path {
        &self.manifest.path
    }

    /// A lookup that searches only this host's folder.
    pub fn lookup(&self) -> Lookup {
        Lookup::only(self.browser, [&self.dir])
    }

    /// A launcher for this host's browser that finds only this host
    /// ([`Launcher::isolated`] with this host's folder). Add the folders of other hosts with
    /// [`Launcher::with_dir`].
    pub fn launcher(&self) -> Launcher {
        Launcher::isolated(self.browser).with_dir(&self.dir)
    }
}

impl Drop for TempHost {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn check_name(browser: BrowserKind, name: &str) -> io::Result<()> {
    if browser.is_valid_host_name(name) {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{name:?} breaks {browser}'s native messaging host name rule"),
    ))
}

/// A new folder, readable by this user only, in the system's temporary folder.
fn make_dir() -> io::Result<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut last = None;
    for _ in 0..100 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!(
            "runtime-native-host-{}-{n}-{nanos:09}",
            std::process::id()
        ));
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary folder name")))
}

/// Writes an executable file, holding the exec lock exclusively.
fn write_executable(path: &Path, contents: &[u8]) -> io::Result<()> {
    let _exclusive = EXEC_LOCK.write().unwrap_or_else(|e| e.into_inner());
    fs::write(path, contents)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "knldjmfmopnpolahpmmgbagdohdnhkik";

    #[test]
    fn each_browser_gets_its_form_of_the_manifest() {
        let chrome = TempHost::script(BrowserKind::Chrome, "a.b", "exit 0", &[ID]).unwrap();
        assert_eq!(
            chrome.manifest().allowed_origins,
            Some(vec![format!("chrome-extension://{ID}/")])
        );
        let found = chrome.lookup().find("a.b").unwrap();
        assert_eq!(found.manifest, *chrome.manifest());
        assert_eq!(found.manifest_path, chrome.manifest_path());

        let firefox = TempHost::script(BrowserKind::Firefox, "A_b", "exit 0", &[]).unwrap();
        assert_eq!(firefox.manifest().allowed_extensions, Some(vec![]));
        assert_eq!(firefox.manifest().allowed_origins, None);
        assert!(firefox.lookup().find("A_b").is_ok());
        assert_ne!(chrome.dir(), firefox.dir());
    }

    #[test]
    fn bad_names_and_relative_programs_are_refused_without_leaving_files() {
        let err = TempHost::script(BrowserKind::Chrome, "Upper", "", &[]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(
            err.to_string(),
            "\"Upper\" breaks chrome's native messaging host name rule"
        );
        let err = TempHost::program(BrowserKind::Chrome, "a", "host.sh", &[]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn the_folder_goes_with_the_host() {
        let host = TempHost::program(BrowserKind::Chromium, "p", "/bin/cat", &[ID]).unwrap();
        assert_eq!(host.executable(), Path::new("/bin/cat"));
        let dir = host.dir().to_path_buf();
        assert!(dir.join("p.json").is_file());
        drop(host);
        assert!(!dir.exists());
    }
}
