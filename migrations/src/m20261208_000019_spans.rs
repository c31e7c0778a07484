//! Rollups of durations that a case has many of (docs/metrics.md, "Rollups"): its stays in each
//! status, its handoffs' time in queue and at work, and, while it is open, how long its owner has
//! held it. They feed time in state and the bottlenecks from the database, as `metric_fact` and
//! `rollup_cell` feed the other metrics.
//!
//! - `metric_span`: one row per duration of a case, in the case's cell (its columns repeated, so
//!   that a cell's spans are found without a join): what it measures (`kind`: 0 a stay in
//!   `status`, 1 a handoff's queue and 2 its work, from `from_department` to `to_department`, of
//!   `handoff_kind`; 3 an open case held by its owner; 4 an answered, decided case's time with
//!   `to_department`, summed), and either its length (ended) or the
//!   instant it started (`since_ms`, still running: the reader measures it up to now). Rewritten
//!   with the case's fact, in the same transaction.
//! - `rollup_span`: per cell and what is measured, the ended spans' count and sums.
//! - `rollup_span_hist`: the same, as exact histograms of whole calendar days (measure 0) and
//!   working days (1); `rollup_span_hist_all` those summed over the months.
//!
//! Every existing case is queued, so the first worker writes its spans.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::parts::{drop_tables, named_index, primary, queue_every_case, rollup_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What a span's rollup row is keyed by: the cell, then what is measured.
const KEY: [&str; 10] = [
    "department",
    "area",
    "channel",
    "received_month",
    "decided_month",
    "kind",
    "status",
    "from_department",
    "to_department",
    "handoff_kind",
];

fn keyed(table: &'static str) -> TableCreateStatement {
    rollup_table(table)
        .col(string_len("received_month", 7))
        .col(string_len("decided_month", 7))
        .col(small_integer("kind"))
        // `''` where the kind has none.
        .col(string_len("status", 32))
        .col(string_len("from_department", 64))
        .col(string_len("to_department", 64))
        .col(string_len("handoff_kind", 32))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut span = keyed("metric_span");
        span.col(big_integer("case_id"))
            .col(integer("seq"))
            // The case's receipt, milliseconds since the Unix epoch (a month cut by a date
            // filter is read here; an open case's age).
            .col(big_integer("received_ms"))
            // An ended span: seconds, working days, whole calendar days (Stockholm dates).
            .col(big_integer_null("seconds"))
            .col(integer_null("working"))
            .col(integer_null("days"))
            // A running span: when it started.
            .col(big_integer_null("since_ms"));
        primary(&mut span, &["case_id", "seq"]);
        m.create_table(span).await?;
        m.create_index(named_index("metric_span_cell", "metric_span", &KEY[..5]))
            .await?;
        // The running spans of a kind: what a request measures up to now.
        m.create_index(named_index(
            "metric_span_running",
            "metric_span",
            &["kind", "since_ms"],
        ))
        .await?;

        let mut sums = keyed("rollup_span");
        sums.col(big_integer("n"))
            .col(big_integer("seconds"))
            .col(big_integer("working"));
        primary(&mut sums, &KEY);
        m.create_table(sums).await?;

        let mut hist = keyed("rollup_span_hist");
        // 0 whole calendar days, 1 working days.
        hist.col(small_integer("measure"))
            .col(integer("value"))
            .col(big_integer("n"));
        let mut key = KEY.to_vec();
        key.extend(["measure", "value"]);
        primary(&mut hist, &key);
        m.create_table(hist).await?;

        // The same histograms summed over the months (received and decided): what a request
        // without dates reads, its rows bounded by the range of durations, not by history.
        let mut all = rollup_table("rollup_span_hist_all")
            .col(small_integer("kind"))
            .col(string_len("status", 32))
            .col(string_len("from_department", 64))
            .col(string_len("to_department", 64))
            .col(string_len("handoff_kind", 32))
            .col(small_integer("measure"))
            .col(integer("value"))
            .col(big_integer("n"))
            .to_owned();
        let mut key: Vec<&str> = KEY
            .iter()
            .filter(|c| !c.ends_with("_month"))
            .copied()
            .collect();
        key.extend(["measure", "value"]);
        primary(&mut all, &key);
        m.create_table(all).await?;

        queue_every_case(m).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            m,
            &[
                "rollup_span_hist_all",
                "rollup_span_hist",
                "rollup_span",
                "metric_span",
            ],
        )
        .await
    }
}
