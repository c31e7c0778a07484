//! `rollup_cell_day`: the cells of `rollup_cell` split by the day their cases were received, so
//! that a month the dates cut is summed from at most 31 rows a cell instead of from every one of
//! its cases' facts (ten million cases: about 140 000 facts a month, 0.47 s a read).
//!
//! A day here is `(received_ms + 7 200 000) / 86 400 000`: the days of UTC+2, which are
//! Stockholm's in summer and begin at 23:00 Stockholm time the evening before in winter. Any
//! instant the dates give (a Stockholm midnight) lies on such a day's bound or one hour after it,
//! so a cut range is its whole days from here and at most an hour at each end from the facts;
//! and the day is plain integer arithmetic on both databases, with no time zone in SQL.
//!
//! The migration fills the table from the existing facts, as the worker's recomputation of a
//! cell does (the sums below are `rollup_cell`'s), so an upgraded database answers at once.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::parts::{named_index, primary, rollup_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "rollup_cell_day";

/// The key of a day's cell, in order.
const KEY: [&str; 6] = [
    "department",
    "area",
    "channel",
    "received_month",
    "decided_month",
    "received_day",
];

/// `rollup_cell`'s sums: integers, then where each real one stands.
const SUMS: [(&str, bool); 38] = [
    ("cases", false),
    ("lead_seconds", false),
    ("lead_working", false),
    ("lead_days", false),
    ("stat_n", false),
    ("stat_seconds", false),
    ("stat_working", false),
    ("stat_days", false),
    ("nki_n", false),
    ("nki_sum", true),
    ("nki_sum2", true),
    ("weeks_sum", true),
    ("weeks_sum2", true),
    ("weeks_nki_sum", true),
    ("factor0_n", false),
    ("factor0_sum", true),
    ("factor0_sum2", true),
    ("factor1_n", false),
    ("factor1_sum", true),
    ("factor1_sum2", true),
    ("factor2_n", false),
    ("factor2_sum", true),
    ("factor2_sum2", true),
    ("factor3_n", false),
    ("factor3_sum", true),
    ("factor3_sum2", true),
    ("factor4_n", false),
    ("factor4_sum", true),
    ("factor4_sum2", true),
    ("factor5_n", false),
    ("factor5_sum", true),
    ("factor5_sum2", true),
    ("complete_n", false),
    ("complete_seconds", false),
    ("complete_working", false),
    ("complete_days", false),
    ("due_n", false),
    ("on_time_n", false),
];

/// The facts summed per day's cell, in `SUMS` order (as the cells were summed when this
/// migration was written).
const FILL: &str = "INSERT INTO rollup_cell_day SELECT department, area, channel, \
    received_month, decided_month, (received_ms + 7200000) / 86400000, COUNT(*), \
    COALESCE(SUM(lead_seconds), 0), COALESCE(SUM(lead_working), 0), COALESCE(SUM(lead_days), 0), \
    COUNT(stat_seconds), COALESCE(SUM(stat_seconds), 0), COALESCE(SUM(stat_working), 0), \
    COALESCE(SUM(stat_days), 0), \
    COUNT(nki), COALESCE(SUM(nki), 0), COALESCE(SUM(nki * nki), 0), \
    COALESCE(SUM(CASE WHEN nki IS NOT NULL THEN CAST(lead_seconds AS DOUBLE PRECISION) / 604800 END), 0), \
    COALESCE(SUM(CASE WHEN nki IS NOT NULL THEN (CAST(lead_seconds AS DOUBLE PRECISION) / 604800) * (CAST(lead_seconds AS DOUBLE PRECISION) / 604800) END), 0), \
    COALESCE(SUM(nki * (CAST(lead_seconds AS DOUBLE PRECISION) / 604800)), 0), \
    COUNT(factor0), COALESCE(SUM(factor0), 0), COALESCE(SUM(factor0 * factor0), 0), \
    COUNT(factor1), COALESCE(SUM(factor1), 0), COALESCE(SUM(factor1 * factor1), 0), \
    COUNT(factor2), COALESCE(SUM(factor2), 0), COALESCE(SUM(factor2 * factor2), 0), \
    COUNT(factor3), COALESCE(SUM(factor3), 0), COALESCE(SUM(factor3 * factor3), 0), \
    COUNT(factor4), COALESCE(SUM(factor4), 0), COALESCE(SUM(factor4 * factor4), 0), \
    COUNT(factor5), COALESCE(SUM(factor5), 0), COALESCE(SUM(factor5 * factor5), 0), \
    COUNT(complete_seconds), COALESCE(SUM(complete_seconds), 0), \
    COALESCE(SUM(complete_working), 0), COALESCE(SUM(complete_days), 0), \
    COUNT(on_time), COALESCE(SUM(on_time), 0) \
    FROM metric_fact GROUP BY department, area, channel, received_month, decided_month, \
    (received_ms + 7200000) / 86400000";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = rollup_table(TABLE);
        // `YYYY-MM` in Stockholm; the decision's, `''` while the case is open.
        t.col(string_len("received_month", 7))
            .col(string_len("decided_month", 7))
            .col(integer("received_day"));
        for (c, real) in SUMS {
            if real {
                t.col(double(c));
            } else {
                t.col(big_integer(c));
            }
        }
        primary(&mut t, &KEY);
        m.create_table(t).await?;
        // What a cut month reads: its days.
        m.create_index(named_index(
            "rollup_cell_day_received",
            TABLE,
            &["received_day"],
        ))
        .await?;
        m.get_connection().execute_unprepared(FILL).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TABLE).to_owned()).await
    }
}
