//! What a dashboard with dates that cut a month, and the board's report of a year, read, in
//! indexes that hold it (a million cases on PostgreSQL):
//! - `metric_span_received`: the ended spans of a cut month and the linkage's sample of the
//!   handoffs, by kind and time received (a scan of every span of the kind before: 0.8 s each,
//!   4–18 ms after);
//! - `rollup_span_hist_decided`: the handoffs' histograms of the cases decided in a year, by
//!   kind and month decided, then every column a request groups or filters them by (index-only:
//!   about 100 → 11 ms);
//! - `rollup_hist_decided_month`: the lead times' histograms of a year's decisions by month
//!   decided (138 → 23 ms).

use sea_orm_migration::prelude::*;

use crate::parts::run_all;

#[derive(DeriveMigrationName)]
pub struct Migration;

const CREATE: [&str; 3] = [
    "CREATE INDEX metric_span_received ON metric_span (kind, received_ms)",
    "CREATE INDEX rollup_span_hist_decided ON rollup_span_hist (kind, decided_month, \
     from_department, to_department, handoff_kind, measure, value, n, department, area, channel, \
     status, received_month)",
    "CREATE INDEX rollup_hist_decided_month ON rollup_hist_decided (decided_month, measure, area, \
     value, n, department, channel)",
];

const DROP: [&str; 3] = [
    "DROP INDEX metric_span_received",
    "DROP INDEX rollup_span_hist_decided",
    "DROP INDEX rollup_hist_decided_month",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        run_all(m, &CREATE).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        run_all(m, &DROP).await
    }
}
