//! Rollups: the metrics' sufficient statistics kept in the database and shared by every process
//! (migration 18; docs/metrics.md, "Rollups"). `fact` is what one case contributes, `sums` the
//! statistics of a group and the figures they give, `write` keeps them current from the queue,
//! `read` answers a request from them, `check` compares them with a recomputation.

pub mod check;
pub mod fact;
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
    /// took. The batches run in a task of their own: a request that is cancelled (its client
    /// hung up) does not stop a batch half-way, and the next caller finds it done.
    pub async fn catch_up(&self, db: &Db, budget: u64) -> Result<u64, DbErr> {
        let _turn = self.draining.lock().await;
        let db = db.clone();
        tokio::spawn(async move {
            write::drain(
                &db,
                write::Budget {
                    budget,
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
        Ok(read::groups(db.reader(), &criteria, by, ask).await?)
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
        Ok(read::groups_by(db.reader(), &criteria, by, ask).await?)
    }

    /// The cases in scope whose facts meet `condition` (SQL over `metric_fact`), as records of
    /// their own row alone (`load::read_rows`): a list's cases, read without reading the others.
    pub async fn records_where(
        &self,
        db: &Db,
        actor: &lots_core::Actor,
        filter: &crate::MetricFilter,
        condition: &str,
    ) -> lots_cases::ServiceResult<Vec<crate::CaseRecord>> {
        let criteria = self.ready(db, actor, filter).await?;
        let ids = read::case_ids(db.reader(), &criteria, condition).await?;
        Ok(crate::load::read_rows(db.reader(), &ids).await?)
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
        let stays = span_db::durations(
            db.reader(),
            &criteria,
            span::Kind::Stay,
            &[span_db::SpanKey::of(by), span_db::SpanKey::STATUS],
            now,
        )
        .await?;
        Ok(crate::compute::time_in_state_of(&stays))
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
        let conn = db.reader();
        let edge = [
            span_db::SpanKey::FROM,
            span_db::SpanKey::TO,
            span_db::SpanKey::HANDOFF_KIND,
        ];
        let edges = crate::compute::Edges {
            queue: span_db::durations(conn, &criteria, span::Kind::Queue, &edge, now).await?,
            work: span_db::durations(conn, &criteria, span::Kind::Work, &edge, now).await?,
        };
        let held = span_db::held(conn, &criteria).await?;
        let areas = read::groups(conn, &criteria, crate::GroupBy::Area, read::Ask::DECIDED).await?;
        let answers: Vec<&sums::Answers> = areas.values().map(|g| &g.answers).collect();
        let answered: u64 = answers.iter().map(|a| a.n()).sum();
        let slope = (answered >= threshold as u64)
            .then(|| sums::within_slope(&answers))
            .flatten()
            .map(|r| r.slope);
        Ok(crate::compute::bottlenecks_of(&held, &edges, slope, now))
    }

    /// How lead time, departments and handoffs relate to NKI over the answered cases in scope.
    pub async fn linkage(
        &self,
        db: &Db,
        actor: &lots_core::Actor,
        filter: &crate::MetricFilter,
        (threshold, area_threshold): (usize, usize),
    ) -> lots_cases::ServiceResult<crate::compute::Linkage> {
        let criteria = self.ready(db, actor, filter).await?;
        let cases = span_db::answered(db.reader(), &criteria).await?;
        Ok(crate::compute::linkage_of(
            &cases,
            threshold,
            area_threshold,
        ))
    }

    /// Catches up every second until `stop` resolves: what `lots serve` and `lots worker` run.
    pub async fn run(&self, db: &Db, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            match self.catch_up(db, u64::MAX).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(cases = n, "rollups brought up to date"),
                Err(e) => tracing::warn!(error = %e, "rollups not brought up to date"),
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }
}
