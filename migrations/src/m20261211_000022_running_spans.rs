//! The work in progress, read by every dashboard request, in partial indexes that hold every
//! column a request filters, groups, orders or counts it by, so that it is read from them alone
//! (an index-only scan on PostgreSQL, a covering index on SQLite) instead of a table row each,
//! scattered over all history (ten million cases: 165 000 rows in 107 000 pages, 0.35 s a read):
//! - `metric_span_open`: the running spans (an open case's holding, a handoff's queue or work
//!   not yet ended), measured up to now;
//! - `metric_fact_open`: the open cases in due date order, the deadlines' lists and totals.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// By kind, then department and latest start first: the order in which the bottlenecks number
/// each department's open cases (no sort), then every column a request filters or groups by.
const CREATE: &str = "CREATE INDEX metric_span_open ON metric_span (kind, department, \
    since_ms DESC, area, channel, received_month, decided_month, received_ms, status, \
    from_department, to_department, handoff_kind) WHERE since_ms IS NOT NULL";

/// In due date order, then the columns a request's scope filters by.
const CREATE_FACTS: &str = "CREATE INDEX metric_fact_open ON metric_fact (due_day, case_id, \
    department, area, channel, received_month, received_ms) \
    WHERE decided_month = '' AND on_time IS NULL AND is_open = 1";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(CREATE).await?;
        db.execute_unprepared(CREATE_FACTS).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX metric_fact_open").await?;
        db.execute_unprepared("DROP INDEX metric_span_open").await?;
        Ok(())
    }
}
