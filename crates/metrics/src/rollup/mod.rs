//! Rollups: the metrics' sufficient statistics kept in the database and shared by every process
//! (migration 18; docs/metrics.md, "Rollups"). `fact` is what one case contributes, `sums` the
//! statistics of a group and the figures they give, `write` keeps them current from the queue,
//! `read` answers a request from them, `check` compares them with a recomputation.

pub mod check;
pub mod fact;
pub mod figures;
pub mod link;
pub mod read;
pub mod span;
pub mod span_db;
pub mod sums;
pub mod write;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use lots_store::Db;
use sea_orm::DbErr;

/// How many queued rows a dashboard request brings up to date itself before it answers (one
/// batch), so that a write shows in the next answer; past that (a migration or an import just
/// queued a million cases) it answers from the rollups as they stand while the worker catches
/// up.
pub const REQUEST_BUDGET: u64 = write::BATCH;

/// This process's side of the rollups: one drain at a time (the processes on one PostgreSQL
/// take turns by an advisory lock besides).
#[derive(Debug, Default)]
pub struct Rollups {
    draining: tokio::sync::Mutex<()>,
}

impl Rollups {
    pub fn new() -> Self {
        Self::default()
    }

    /// Brings the rollups up to date, taking at most `budget` queued rows; answers how many it
    /// took. It takes its turns a batch at a time: the worker and the requests of this process
    /// queue for each batch (the lock is fair), so a request waits for at most one batch of the
    /// worker's, never for a whole catch-up of an import's million cases.
    pub async fn catch_up(&self, db: &Db, budget: u64) -> Result<u64, DbErr> {
        let mut done = 0;
        while done < budget {
            let rows = (budget - done).min(write::BATCH);
            let n = self.turn(db, rows).await?;
            done += n;
            if n < rows {
                break;
            }
        }
        Ok(done)
    }

    /// One batch of at most `rows` queued rows, run in a task of its own: a request that is
    /// cancelled (its client hung up) does not stop a batch half-way, and the next caller finds
    /// it done.
    async fn turn(&self, db: &Db, rows: u64) -> Result<u64, DbErr> {
        let _turn = self.draining.lock().await;
        let db = db.clone();
        tokio::spawn(async move {
            write::drain(
                &db,
                write::Budget {
                    budget: rows,
                    batch: write::BATCH,
                },
                write::Cells::Recompute,
                &|_| {},
            )
            .await
        })
        .await
        .map_err(|e| DbErr::Custom(format!("the rollup worker stopped: {e}")))?
    }

    /// Checks the caller and the filters, brings the rollups up to date (within the request's
    /// budget) and reads the decided cases in the caller's scope that meet the filters, grouped.
    pub async fn groups(
        &self,
        db: &Db,
        actor: &lots_core::Actor,
        filter: &crate::MetricFilter,
        by: crate::GroupBy,
        ask: read::Ask,
    ) -> lots_cases::ServiceResult<BTreeMap<String, sums::Group>> {
        let criteria = self.ready(db, actor, filter).await?;
        Ok(read::groups(db.analytics(), &criteria, by, ask).await?)
    }

    /// Checks the caller and the filters, then brings the rollups up to date for the request.
    async fn ready(
        &self,
        db: &Db,
        actor: &lots_core::Actor,
        filter: &crate::MetricFilter,
    ) -> lots_cases::ServiceResult<crate::load::Criteria> {
        let criteria = crate::load::criteria(db, actor, filter).await?;
        self.catch_up(db, REQUEST_BUDGET).await?;
        Ok(criteria)
    }

    /// As `groups`, per combination of several groupings.
    pub async fn groups_by(
        &self,
        db: &Db,
        actor: &lots_core::Actor,
        filter: &crate::MetricFilter,
        by: &[read::Key],
        ask: read::Ask,
    ) -> lots_cases::ServiceResult<BTreeMap<Vec<String>, sums::Group>> {
        let criteria = self.ready(db, actor, filter).await?;
        Ok(read::groups_by(db.analytics(), &criteria, by, ask).await?)
    }

    /// Time in each status of the cases in scope, per group (`by`) and status.
    pub async fn time_in_state(
        &self,
        db: &Db,
        actor: &lots_core::Actor,
        filter: &crate::MetricFilter,
        by: crate::GroupBy,
        now: chrono::DateTime<chrono::Utc>,
    ) -> lots_cases::ServiceResult<Vec<crate::compute::StateTime>> {
        let criteria = self.ready(db, actor, filter).await?;
        Ok(figures::time_in_state(db.analytics(), &criteria, by, now).await?)
    }

    /// Where the cases in scope wait: their owners' holding, their handoffs per edge, priced by
    /// the within-area slope of NKI on lead time (suppressed under `threshold` answers).
    pub async fn bottlenecks(
        &self,
        db: &Db,
        actor: &lots_core::Actor,
        filter: &crate::MetricFilter,
        threshold: usize,
        now: chrono::DateTime<chrono::Utc>,
    ) -> lots_cases::ServiceResult<crate::compute::Bottlenecks> {
        let criteria = self.ready(db, actor, filter).await?;
        Ok(figures::bottlenecks(db.analytics(), &criteria, threshold, now).await?)
    }

    /// How lead time, departments and handoffs relate to NKI over the answered cases in scope.
    pub async fn linkage(
        &self,
        db: &Db,
        actor: &lots_core::Actor,
        filter: &crate::MetricFilter,
        settings: figures::Settings,
    ) -> lots_cases::ServiceResult<crate::compute::Linkage> {
        let criteria = self.ready(db, actor, filter).await?;
        Ok(figures::linkage(db.analytics(), &criteria, settings)
            .await?
            .0)
    }

    /// Deadline compliance per area and month of decision, the open cases past or near their
    /// due date and the fee reductions owed, in scope.
    pub async fn deadlines(
        &self,
        db: &Db,
        actor: &lots_core::Actor,
        filter: &crate::MetricFilter,
        now: chrono::DateTime<chrono::Utc>,
        near_days: i64,
    ) -> lots_cases::ServiceResult<crate::compute::Deadlines> {
        let criteria = self.ready(db, actor, filter).await?;
        Ok(figures::deadlines(db.analytics(), &criteria, now, near_days).await?)
    }

    /// How the cases in scope came in.
    pub async fn channels(
        &self,
        db: &Db,
        actor: &lots_core::Actor,
        filter: &crate::MetricFilter,
        threshold: usize,
    ) -> lots_cases::ServiceResult<crate::compute::Channels> {
        let criteria = self.ready(db, actor, filter).await?;
        Ok(figures::channels(db.analytics(), &criteria, threshold).await?)
    }

    /// What the board's report of `year` over the cases in scope is computed from.
    pub async fn board_inputs(
        &self,
        db: &Db,
        actor: &lots_core::Actor,
        year: i32,
        now: chrono::DateTime<chrono::Utc>,
    ) -> lots_cases::ServiceResult<crate::report::BoardInputs> {
        let criteria = self
            .ready(db, actor, &crate::MetricFilter::default())
            .await?;
        Ok(figures::board_inputs(db.analytics(), &criteria, year, now).await?)
    }

    /// Everything the managers' dashboard shows of the cases in scope.
    pub async fn figures(
        &self,
        db: &Db,
        actor: &lots_core::Actor,
        filter: &crate::MetricFilter,
        settings: figures::Settings,
        now: chrono::DateTime<chrono::Utc>,
    ) -> lots_cases::ServiceResult<figures::Figures> {
        let criteria = self.ready(db, actor, filter).await?;
        Ok(figures::figures(db.analytics(), &criteria, settings, now).await?)
    }

    /// Catches up every second until `stop` resolves: what `lots serve` and `lots worker` run.
    pub async fn run(&self, db: &Db, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            match self.catch_up(db, u64::MAX).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::debug!(cases = n, "rollups brought up to date");
                    if n >= write::FIRST_REFRESH {
                        // A catch-up of that size (after an import or a migration) rewrote
                        // most rollup rows: their dead versions are cleared and the
                        // statistics refreshed now, as after a bulk drain, for autovacuum
                        // may be off or late, and until then every read scans them.
                        if let Err(e) = db.vacuum_analyze(&write::REWRITTEN).await {
                            tracing::warn!(error = %e, "rollups not vacuumed");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "rollups not brought up to date"),
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }
}
