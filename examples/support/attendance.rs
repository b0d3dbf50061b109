//! The play's data: check-ins in an SQLite database file, so a restart loses nothing.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension};

/// The first check-in of each (KST) day, keyed by employee number (`tag`) or, without one, by
/// `userKey`. Cheap to clone: every clone uses the same connection.
#[derive(Clone)]
pub struct Attendance {
    db: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
}

impl Attendance {
    /// Opens (or creates) the database at `path`. A new file is created readable by this user
    /// only: it holds employee numbers.
    pub fn open(path: &Path) -> Result<Self, String> {
        let failed = |e: &dyn std::fmt::Display| format!("database {}: {e}", path.display());
        create_private(path).map_err(|e| failed(&e))?;
        let db = Connection::open(path).map_err(|e| failed(&e))?;
        // WAL: readers never wait for the writer; several processes on this host may share the
        // file, each waiting up to 5 s for another's write.
        db.busy_timeout(Duration::from_secs(5))
            .map_err(|e| failed(&e))?;
        db.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| failed(&e))?;
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS check_ins (
                 who  TEXT    NOT NULL,
                 day  INTEGER NOT NULL, -- days since 1970-01-01, KST
                 time TEXT    NOT NULL, -- HH:MM, KST
                 PRIMARY KEY (who, day)
             )",
        )
        .map_err(|e| failed(&e))?;
        Ok(Self {
            db: Arc::new(Mutex::new(db)),
            path: Arc::new(path.to_owned()),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records the first check-in of the (KST) day of `who` and returns its time, `HH:MM` KST.
    pub async fn check_in(&self, who: String) -> Result<String, rusqlite::Error> {
        let db = self.db.clone();
        // SQLite blocks: keep it off the threads that serve connections.
        tokio::task::spawn_blocking(move || {
            let (day, now) = kst_now();
            let db = db.lock().unwrap_or_else(PoisonError::into_inner);
            db.execute(
                "INSERT OR IGNORE INTO check_ins (who, day, time) VALUES (?1, ?2, ?3)",
                params![who, day, now],
            )?;
            db.query_row(
                "SELECT time FROM check_ins WHERE who = ?1 AND day = ?2",
                params![who, day],
                |row| row.get(0),
            )
            .optional()?
            .ok_or(rusqlite::Error::QueryReturnedNoRows)
        })
        .await
        .expect("the check-in query does not panic")
    }
}

/// Today's day number and the time `HH:MM`, both in KST (UTC+9).
fn kst_now() -> (i64, String) {
    let kst = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + 9 * 3600;
    let (day, seconds) = (kst / 86_400, kst % 86_400);
    let now = format!("{:02}:{:02}", seconds / 3600, seconds % 3600 / 60);
    (day as i64, now)
}

/// Creates `path` with mode 0600 if it does not exist yet (SQLite would create it 0644).
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}
