//! Reading a file a user names, without blocking and without reading more than a limit.
//!
//! Host manifests are read with it here; `runtime-core` reads an extension's `manifest.json`
//! and the `runtime-sim` command its scenario files with it too, so that every file the
//! workspace reads on a user's word follows one rule.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Reads the whole of `path` if it is a regular file (or a symbolic link to one) of at most
/// `limit` bytes.
///
/// Anything else fails at once, before a byte is read: a FIFO (which would block until a
/// writer comes), a device such as `/dev/zero` (which never ends), a socket or a folder gives
/// an [`io::ErrorKind::InvalidInput`] error (a folder: [`io::ErrorKind::IsADirectory`]) that
/// names what it is; a file larger than `limit` gives [`io::ErrorKind::FileTooLarge`]. The
/// file is checked before it is opened and again once open (so a file swapped in between is
/// caught), opened non-blocking, and read through `take(limit + 1)`: a file that grows while
/// it is read, or that reports no size (as files under `/proc` do), is refused the same way
/// once it passes the limit. Memory is bounded by `limit`.
///
/// ```
/// use runtime_native::read_regular_file;
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("small.json");
/// std::fs::write(&path, "{}").unwrap();
/// assert_eq!(read_regular_file(&path, 1024).unwrap(), b"{}");
///
/// let err = read_regular_file(&path, 1).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::FileTooLarge);
/// assert_eq!(err.to_string(), "the file is 2 bytes, over the limit of 1 byte");
///
/// let err = read_regular_file(std::path::Path::new("/dev/zero"), 1024).unwrap_err();
/// assert_eq!(err.to_string(), "not a regular file: it is a character device");
/// ```
pub fn read_regular_file(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    check(&std::fs::metadata(path)?, limit)?;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let metadata = file.metadata()?;
    check(&metadata, limit)?;
    read_at_most(file, metadata.len(), limit)
}

/// Refuses anything but a regular file of at most `limit` bytes.
fn check(metadata: &Metadata, limit: u64) -> io::Result<()> {
    let kind = metadata.file_type();
    if kind.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "not a regular file: it is a folder",
        ));
    }
    if !kind.is_file() {
        let what = if kind.is_fifo() {
            "a FIFO (named pipe)"
        } else if kind.is_char_device() {
            "a character device"
        } else if kind.is_block_device() {
            "a block device"
        } else if kind.is_socket() {
            "a socket"
        } else {
            "not a file"
        };
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a regular file: it is {what}"),
        ));
    }
    if metadata.len() > limit {
        return Err(too_large(
            format!("the file is {}", bytes(metadata.len())),
            limit,
        ));
    }
    Ok(())
}

/// Reads at most `limit` bytes, and fails if there are more.
fn read_at_most(file: File, expected: u64, limit: u64) -> io::Result<Vec<u8>> {
    // `expected <= limit` here; the room for one more byte tells a file that grew.
    let room = usize::try_from(expected.saturating_add(1)).unwrap_or(usize::MAX);
    let mut bytes = Vec::with_capacity(room);
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large("the file is larger".to_owned(), limit));
    }
    Ok(bytes)
}

fn too_large(what: String, limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!("{what}, over the limit of {}", bytes(limit)),
    )
}

/// `1 byte`, `2 bytes`, `1048576 bytes (1 MiB)`.
fn bytes(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    match n {
        1 => "1 byte".to_owned(),
        n if n >= MIB && n % MIB == 0 => format!("{n} bytes ({} MiB)", n / MIB),
        n => format!("{n} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_a_regular_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_regular_file(dir.path(), 10).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::IsADirectory);
        assert_eq!(err.to_string(), "not a regular file: it is a folder");

        let fifo = dir.path().join("fifo");
        let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo reads a NUL-terminated path that lives across the call.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let err = read_regular_file(&fifo, 10).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(
            err.to_string(),
            "not a regular file: it is a FIFO (named pipe)"
        );

        let missing = read_regular_file(&dir.path().join("missing"), 10).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn the_limit_is_inclusive_and_counts_what_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, [7u8; 16]).unwrap();
        assert_eq!(read_regular_file(&path, 16).unwrap().len(), 16);
        let err = read_regular_file(&path, 15).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the file is 16 bytes, over the limit of 15 bytes"
        );
        // A file that says it is empty but is not (as /proc files do) is read up to the limit.
        let reported_empty = std::fs::File::open(&path).unwrap();
        let err = read_at_most(reported_empty, 0, 8).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(
            err.to_string(),
            "the file is larger, over the limit of 8 bytes"
        );
        assert_eq!(bytes(3 * 1024 * 1024), "3145728 bytes (3 MiB)");
    }
}
