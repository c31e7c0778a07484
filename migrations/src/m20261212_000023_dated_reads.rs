//! What a dashboard with dates reads, in indexes that hold it, so that a year of history is read
//! from its own entries instead of a scan of every month's (a million cases on PostgreSQL: the
//! handoffs' histograms 53 → 8 ms each, the late building decisions' count 30 ms of heap rows):
//! - `rollup_span_hist_received`, `rollup_hist_received`: the histograms by kind and month
//!   received, then every column a request groups, filters or sums them by (index-only);
//! - `rollup_link_received`: the linkage's sums by month received;
//! - `metric_fact_late` again, now with the case id (the fee reductions' order: latest decision
//!   first), the department and the time received, so that their list and count with a scope
//!   and dates read the index alone.

use sea_orm_migration::prelude::*;

use crate::parts::run_all;

#[derive(DeriveMigrationName)]
pub struct Migration;

const CREATE: [&str; 4] = [
    "CREATE INDEX rollup_span_hist_received ON rollup_span_hist (kind, received_month, \
     from_department, to_department, handoff_kind, status, measure, value, n, department, area, \
     channel, decided_month)",
    "CREATE INDEX rollup_hist_received ON rollup_hist (received_month, measure, decided_month, \
     channel, value, n, department, area)",
    "CREATE INDEX rollup_link_received ON rollup_link (received_month)",
    "CREATE INDEX metric_fact_late ON metric_fact (area, on_time, decided_ms, case_id, \
     department, received_ms)",
];

const DROP: [&str; 3] = [
    "DROP INDEX rollup_span_hist_received",
    "DROP INDEX rollup_hist_received",
    "DROP INDEX rollup_link_received",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        run_all(m, &["DROP INDEX metric_fact_late"]).await?;
        run_all(m, &CREATE).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        run_all(m, &DROP).await?;
        run_all(
            m,
            &[
                "DROP INDEX metric_fact_late",
                "CREATE INDEX metric_fact_late ON metric_fact (area, on_time, decided_ms)",
            ],
        )
        .await
    }
}
