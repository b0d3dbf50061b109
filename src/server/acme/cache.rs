//! The ACME cache: the account key and the certificates, private to this user, written
//! atomically, shared by several processes through a lock file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::server::error::StartupError;

/// How often a process waiting for another one's lock on the cache tries again.
const LOCK_RETRY: Duration = Duration::from_millis(200);

/// The cache directory, created (or tightened to) mode 0700.
#[derive(Debug)]
pub(super) struct Cache {
    dir: PathBuf,
}

/// The cache's lock, held while an account or a certificate is obtained and written, so that
/// several processes on the host neither order twice nor interleave their writes. Released when
/// dropped (or when the process ends).
pub(super) struct Locked {
    _file: File,
}

impl Cache {
    pub(super) fn open(dir: &Path) -> Result<Self, StartupError> {
        let cache_error = |source| StartupError::AcmeCache {
            path: dir.to_path_buf(),
            source,
        };
        create_private_dir(dir).map_err(cache_error)?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The file's bytes, or `None` if it does not exist.
    pub(super) fn read(&self, name: &str) -> io::Result<Option<Vec<u8>>> {
        match fs::read(self.path(name)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Replaces the file with `bytes` (mode 0600): written to a temporary file in the same
    /// directory, synced, then renamed over the old one, so a crash leaves the old file or the
    /// new one, never a part of either.
    pub(super) fn write(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let target = self.path(name);
        let temporary = self.path(&format!(".{name}.{}.tmp", std::process::id()));
        let written = (|| {
            let mut file = private_file().open(&temporary)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&temporary, &target)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        written?;
        // The rename itself is durable once the directory is synced.
        File::open(&self.dir)?.sync_all()
    }

    /// Waits (without blocking the runtime) until this process holds the cache's lock.
    pub(super) async fn lock(&self) -> io::Result<Locked> {
        let file = private_file().truncate(false).open(self.path("lock"))?;
        loop {
            match try_lock(&file) {
                Ok(true) => return Ok(Locked { _file: file }),
                Ok(false) => tokio::time::sleep(LOCK_RETRY).await,
                Err(e) => return Err(e),
            }
        }
    }
}

/// Options for a file only this user may read and write (0600).
fn private_file() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700);
        builder.create(dir)?;
        // An existing directory keeps its mode through `create`: tighten it.
        let mode = fs::metadata(dir)?.permissions().mode() & 0o777;
        if mode != 0o700 {
            tracing::warn!(dir = %dir.display(), mode = format!("{mode:o}"), "the ACME cache directory was open to others; set it to 0700");
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    builder.create(dir)
}

#[cfg(unix)]
fn try_lock(file: &File) -> io::Result<bool> {
    use rustix::fs::{flock, FlockOperation};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// No advisory locks to take: one process per cache directory.
#[cfg(not(unix))]
fn try_lock(_file: &File) -> io::Result<bool> {
    Ok(true)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    use super::Cache;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_directory_is_private_and_files_replaced_whole_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("a/b");
        std::fs::create_dir_all(&cache_dir).unwrap();
        std::fs::set_permissions(&cache_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let cache = Cache::open(&cache_dir).unwrap();
        assert_eq!(
            mode(&cache_dir),
            0o700,
            "an existing directory is tightened"
        );
        cache.write("cert.pem", b"old").unwrap();
        cache.write("cert.pem", b"new").unwrap();
        assert_eq!(cache.read("cert.pem").unwrap().unwrap(), b"new");
        assert_eq!(mode(&cache.path("cert.pem")), 0o600);
        assert_eq!(cache.read("absent").unwrap(), None);
        let names: Vec<_> = std::fs::read_dir(&cache_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["cert.pem"], "no temporary file is left");
    }

    #[tokio::test]
    async fn one_holder_of_the_lock_at_a_time() {
        // Two opens of the lock file, as two processes would have: flock excludes them.
        let dir = tempfile::tempdir().unwrap();
        let first = Cache::open(dir.path()).unwrap();
        let second = Cache::open(dir.path()).unwrap();
        let held = first.lock().await.unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(600), second.lock()).await;
        assert!(waiting.is_err(), "the lock was taken twice");
        drop(held);
        tokio::time::timeout(Duration::from_secs(5), second.lock())
            .await
            .expect("the lock is free once released")
            .unwrap();
    }
}
