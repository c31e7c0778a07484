//! The event log's partitions on PostgreSQL, where `case_event` is partitioned by blocks of
//! case ids (migration `m20261210_000021_event_log_by_case`, docs/event-log.md). A block's
//! partition is made before its first event: by the migration, by the server when it starts and
//! every hour after (the newest case's block and the next), and by an import for the ids it
//! reserved. A row whose block has none yet lands in the DEFAULT partition, so no insert fails;
//! the next making moves it to its block. SQLite keeps one table: nothing to do.
//!
//! Making a partition takes a moment's exclusive lock on `case_event`, which waits for the
//! transactions reading it; `LOCK_TIMEOUT` bounds that wait (and so how long the requests
//! queued behind it wait), and a making that gives up is tried again at the next hour.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, TransactionTrait};

use crate::Db;

/// Blocks made ahead of the newest case's (as the migration's `BLOCKS_AHEAD`): a block is a
/// million cases, more than any municipality registers in an hour.
pub const BLOCKS_AHEAD: i32 = 1;

/// How often a server makes sure of its blocks.
const EVERY: Duration = Duration::from_secs(3600);

/// How long a making waits for the lock before it gives up until next time.
const LOCK_TIMEOUT: &str = "5s";

impl Db {
    /// Makes the partitions of the newest case's block and the next [`BLOCKS_AHEAD`], and of
    /// the blocks of the rows in the DEFAULT partition (moving them there); answers how many it
    /// made.
    pub async fn ensure_event_partitions(&self) -> Result<i32, DbErr> {
        self.make_partitions(
            "SELECT lots_ensure_event_partitions($1)",
            vec![BLOCKS_AHEAD.into()],
        )
        .await
    }

    /// Makes the partitions of the blocks from case `first`'s to case `last`'s that have none
    /// (and those of the DEFAULT partition's rows, as [`Db::ensure_event_partitions`]); answers
    /// how many it made.
    pub async fn ensure_event_partitions_for(&self, first: i64, last: i64) -> Result<i32, DbErr> {
        if last < first {
            return Ok(0);
        }
        self.make_partitions(
            "SELECT lots_create_event_partitions($1, $2)",
            vec![first.into(), last.into()],
        )
        .await
    }

    async fn make_partitions(&self, sql: &str, values: Vec<sea_orm::Value>) -> Result<i32, DbErr> {
        if self.backend() != DbBackend::Postgres {
            return Ok(0);
        }
        let tx = self.writer().begin().await?;
        tx.execute_unprepared(&format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            .await?;
        let made: i32 = tx
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                sql,
                values,
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("no answer from the partitions' function".into()))?
            .try_get_by_index(0)?;
        tx.commit().await?;
        if made > 0 {
            tracing::info!(made, "event log: partitions made");
        }
        Ok(made)
    }

    /// Makes sure of the event log's blocks now and every [`EVERY`] until `stop` resolves
    /// (nothing to do on SQLite).
    pub async fn keep_event_partitions_ahead(self, stop: impl Future<Output = ()>) {
        if self.backend() != DbBackend::Postgres {
            return;
        }
        crate::every(EVERY, stop, || async {
            if let Err(e) = self.ensure_event_partitions().await {
                tracing::warn!(error = %e, "event log: partitions not made; trying again later");
            }
        })
        .await;
    }
}
