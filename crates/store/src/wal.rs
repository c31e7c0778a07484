//! Keeps a SQLite file's write-ahead log short while the server runs.
//!
//! After a commit SQLite copies the log back into the file (a passive checkpoint), but it starts
//! the log over only when no reader is still in it. A server that always has a request reading
//! never gets there, and the log grows for as long as it runs (249 MB after 18 minutes of the
//! soak, BENCHMARKS.md 2026-12-06): disk that is never given back, and a longer log index for
//! every read to consult. So every few seconds the server looks at the log, and past a limit
//! asks for a `TRUNCATE` checkpoint: on the writer's connection (it waits its turn behind the
//! writes), it copies what is left, waits for the readers of an older snapshot to finish (the
//! busy timeout), and empties the file.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

use crate::Db;

/// The log's size past which the server empties it.
pub const WAL_LIMIT: u64 = 64 << 20;

/// How often the server looks at the log's size.
const EVERY: Duration = Duration::from_secs(5);

/// What an emptying of the log did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Emptied {
    /// The log's size before, in bytes.
    pub before: u64,
    /// Its size after (0 unless a reader held on past the busy timeout).
    pub after: u64,
    pub took: Duration,
}

impl Db {
    /// The write-ahead log of a SQLite file; `None` for PostgreSQL or a database in memory.
    fn wal_path(&self) -> Option<PathBuf> {
        let file = self.bulk_options()?.get_filename();
        let mut name = file.as_os_str().to_owned();
        name.push("-wal");
        Some(PathBuf::from(name))
    }

    /// The write-ahead log's size in bytes (0 when there is none).
    pub fn wal_size(&self) -> u64 {
        self.wal_path()
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len())
    }

    /// Copies the log back into the file and empties it, if it holds more than `limit` bytes.
    pub async fn empty_wal_past(&self, limit: u64) -> Result<Option<Emptied>, DbErr> {
        let before = self.wal_size();
        if self.wal_path().is_none() || before <= limit {
            return Ok(None);
        }
        let started = Instant::now();
        // One row: busy (1 if a reader held on), frames in the log, frames copied.
        let row = self
            .writer()
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA wal_checkpoint(TRUNCATE)",
            ))
            .await?;
        let busy: i64 = match row {
            Some(r) => r.try_get_by_index(0)?,
            None => 0,
        };
        let emptied = Emptied {
            before,
            after: self.wal_size(),
            took: started.elapsed(),
        };
        if busy != 0 {
            tracing::warn!(
                before,
                after = emptied.after,
                "the write-ahead log could not be emptied: a reader held on"
            );
        }
        Ok(Some(emptied))
    }

    /// Keeps the write-ahead log under [`WAL_LIMIT`] until `stop` resolves (nothing to do for
    /// PostgreSQL or a database in memory).
    pub async fn keep_wal_short(self, stop: impl Future<Output = ()>) {
        if self.wal_path().is_none() {
            return;
        }
        crate::every(EVERY, stop, || async {
            match self.empty_wal_past(WAL_LIMIT).await {
                Ok(Some(e)) => tracing::info!(
                    before = e.before,
                    after = e.after,
                    ms = e.took.as_millis() as u64,
                    "write-ahead log emptied"
                ),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "write-ahead log not emptied"),
            }
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log past the limit is emptied while readers keep reading, and every row is still
    /// there; one under it is left alone.
    #[tokio::test]
    async fn a_long_log_is_emptied_under_readers_and_loses_nothing() {
        let dir = std::env::temp_dir().join(format!(
            "lots-wal-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("wal.db");
        let db = Db::connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .unwrap();
        let w = db.writer();
        w.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            .await
            .unwrap();
        // Readers all the time, as a busy server has: the log cannot start over by itself.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let (db, stop) = (db.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut reads = 0u64;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        db.reader()
                            .query_one_raw(Statement::from_string(
                                DbBackend::Sqlite,
                                "SELECT COUNT(*) FROM t",
                            ))
                            .await
                            .unwrap();
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        for i in 0..400 {
            w.execute_unprepared(&format!(
                "INSERT INTO t (id, v) VALUES ({i}, printf('%.4000c', 'x'))"
            ))
            .await
            .unwrap();
        }
        let before = db.wal_size();
        assert!(before > 1 << 20, "the log holds {before} bytes");
        assert_eq!(db.empty_wal_past(before + 1).await.unwrap(), None);
        let emptied = db.empty_wal_past(1 << 20).await.unwrap().unwrap();
        assert_eq!(emptied.before, before);
        assert_eq!(emptied.after, 0, "{emptied:?}");
        assert_eq!(db.wal_size(), 0);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for r in readers {
            assert!(r.await.unwrap() > 0);
        }
        let n: i64 = db
            .reader()
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT COUNT(*) FROM t WHERE length(v) = 4000",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index(0)
            .unwrap();
        assert_eq!(n, 400);
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
