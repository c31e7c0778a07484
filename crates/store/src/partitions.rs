//! The event log's months on PostgreSQL, where `case_event` is partitioned by month of `at`
//! (migration `m20261207_000019_partitioned_event_log`, docs/event-log.md). A month's partition
//! is made before its first event: by the migration, by the server when it starts and every
//! hour after, and by an import for the months of its history. A row whose month has none yet
//! lands in the DEFAULT partition, so no insert fails; the next making moves it to its month.
//! SQLite keeps one table: nothing to do.
//!
//! Making a partition takes a moment's exclusive lock on `case_event`, which waits for the
//! transactions reading it; `LOCK_TIMEOUT` bounds that wait (and so how long the requests
//! queued behind it wait), and a making that gives up is tried again at the next hour.

use std::time::Duration;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, TransactionTrait};

use crate::Db;

/// Months made ahead of the present, besides this one (as the migration's `MONTHS_AHEAD`).
/// Few: every month is one more partition that a query by case, which cannot be pruned by
/// month, visits.
pub const MONTHS_AHEAD: i32 = 3;

/// How often a server makes sure of its months.
const EVERY: Duration = Duration::from_secs(3600);

/// How long a making waits for the lock before it gives up until next time.
const LOCK_TIMEOUT: &str = "5s";

impl Db {
    /// Makes the partitions of this month and the next [`MONTHS_AHEAD`], and of the months of
    /// the rows in the DEFAULT partition (moving them there); answers how many it made.
    pub async fn ensure_event_partitions(&self) -> Result<i32, DbErr> {
        self.make_partitions(
            "SELECT lots_ensure_event_partitions($1)",
            vec![MONTHS_AHEAD.into()],
        )
        .await
    }

    /// Makes the partitions of the `months` (their first days) that have none (and those of the
    /// DEFAULT partition's rows, as [`Db::ensure_event_partitions`]); answers how many it made.
    pub async fn ensure_event_partitions_in(
        &self,
        months: impl IntoIterator<Item = &NaiveDate>,
    ) -> Result<i32, DbErr> {
        let months: Vec<String> = months.into_iter().map(NaiveDate::to_string).collect();
        if months.is_empty() {
            return Ok(0);
        }
        self.make_partitions(
            "SELECT lots_create_event_partitions($1::date[])",
            vec![format!("{{{}}}", months.join(",")).into()],
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
            tracing::info!(made, "event log: monthly partitions made");
        }
        Ok(made)
    }

    /// Makes sure of the event log's months now and every [`EVERY`] until `stop` resolves
    /// (nothing to do on SQLite).
    pub async fn keep_event_partitions_ahead(self, stop: impl Future<Output = ()>) {
        if self.backend() != DbBackend::Postgres {
            return;
        }
        tokio::pin!(stop);
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = tick.tick() => {}
            }
            if let Err(e) = self.ensure_event_partitions().await {
                tracing::warn!(error = %e, "event log: partitions not made; trying again later");
            }
        }
    }
}
