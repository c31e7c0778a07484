//! Rollups: the metrics' sufficient statistics kept in the database, shared by every process,
//! so that a dashboard costs what it asks and not what history holds (docs/metrics.md,
//! "Rollups").
//!
//! - `metric_fact`: one row per case, what the case contributes to the rollups now (its group
//!   keys and its durations, NKI and factor indices). A case's fact is recomputed from its stored
//!   history whenever the case is touched.
//! - `rollup_cell`: per department × area × channel × month received × month decided (`''` while
//!   open), the counts and sums of the cell's facts. Always equal to the aggregate of its facts:
//!   a cell is recomputed from them, never adjusted by a difference, so nothing can be counted
//!   twice.
//! - `rollup_hist`: the same cells' exact histograms of whole-day durations (lead time and
//!   statutory handling time, calendar and working days), one row per value.
//! - `rollup_queue`: the cases to bring up to date. Every touch of a case (`case_touch`, written
//!   in the same transaction as every change a metric sees) adds a row by trigger; the rollup
//!   worker takes rows, rewrites their cases' facts and cells, and deletes exactly the rows it
//!   took, in one transaction. A change that commits late still finds its row waiting.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::parts::{drop_tables, id_table, named_index, primary, rollup_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns that name a cell, in key order.
const CELL: [&str; 5] = [
    "department",
    "area",
    "channel",
    "received_month",
    "decided_month",
];

fn keyed(table: &'static str) -> TableCreateStatement {
    Table::create()
        .table(table)
        .col(string_len("department", 64))
        .col(string_len("area", 64))
        .col(string_len("channel", 32))
        // `YYYY-MM` in Stockholm.
        .col(string_len("received_month", 7))
        // `YYYY-MM` in Stockholm, `''` while the case is open.
        .col(string_len("decided_month", 7))
        .to_owned()
}

async fn fact(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let mut t = keyed("metric_fact");
    t.col(big_integer("case_id"))
        // Received, milliseconds since the Unix epoch: a month cut by a date filter is read here.
        .col(big_integer("received_ms"))
        // Received → decided: seconds, working days, whole calendar days (Stockholm dates).
        .col(big_integer_null("lead_seconds"))
        .col(integer_null("lead_working"))
        .col(integer_null("lead_days"))
        // Complete application → decided.
        .col(big_integer_null("stat_seconds"))
        .col(integer_null("stat_working"))
        .col(integer_null("stat_days"))
        // The survey answer of a decided case: its NKI and the six factor indices.
        .col(double_null("nki"));
    for f in 0..6 {
        t.col(double_null(Alias::new(format!("factor{f}"))));
    }
    // Received → complete application (any case whose clock started).
    t.col(big_integer_null("complete_seconds"))
        .col(integer_null("complete_working"))
        .col(integer_null("complete_days"))
        // The due date, days since 1970-01-01; for a decided case with one, whether it was
        // decided on or before it (1) or after (0).
        .col(integer_null("due_day"))
        .col(small_integer_null("on_time"));
    primary(&mut t, &["case_id"]);
    m.create_table(t).await?;
    m.create_index(named_index("metric_fact_cell", "metric_fact", &CELL))
        .await?;
    m.create_index(named_index(
        "metric_fact_received_ms",
        "metric_fact",
        &["received_ms"],
    ))
    .await?;
    // The open cases with a due date and the late decisions: the deadlines' lists.
    m.create_index(named_index(
        "metric_fact_deadlines",
        "metric_fact",
        &["decided_month", "on_time", "due_day"],
    ))
    .await
}

async fn cell(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let mut t = keyed("rollup_cell");
    t.col(big_integer("cases"));
    for c in [
        "lead_seconds",
        "lead_working",
        "lead_days",
        "stat_n",
        "stat_seconds",
        "stat_working",
        "stat_days",
        "nki_n",
    ] {
        t.col(big_integer(Alias::new(c)));
    }
    // NKI, and lead time in weeks (x) against NKI (y) for the linkage's regression.
    for c in [
        "nki_sum",
        "nki_sum2",
        "weeks_sum",
        "weeks_sum2",
        "weeks_nki_sum",
    ] {
        t.col(double(Alias::new(c)));
    }
    for f in 0..6 {
        t.col(big_integer(Alias::new(format!("factor{f}_n"))));
        t.col(double(Alias::new(format!("factor{f}_sum"))));
        t.col(double(Alias::new(format!("factor{f}_sum2"))));
    }
    for c in [
        "complete_n",
        "complete_seconds",
        "complete_working",
        "complete_days",
        "due_n",
        "on_time_n",
    ] {
        t.col(big_integer(Alias::new(c)));
    }
    primary(&mut t, &CELL);
    m.create_table(t).await
}

async fn hist(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let mut t = keyed("rollup_hist");
    // 0 lead time in calendar days, 1 in working days, 2 statutory time in calendar days,
    // 3 in working days, 4 time to a complete application in calendar days, 5 in working days.
    t.col(small_integer("measure"))
        .col(integer("value"))
        .col(big_integer("n"));
    let mut key = CELL.to_vec();
    key.extend(["measure", "value"]);
    primary(&mut t, &key);
    m.create_table(t).await?;
    // The same histograms summed over the months received (`rollup_hist_decided`) and over every
    // month (`rollup_hist_all`): what a request without dates reads, whose rows are bounded by the
    // range of durations, not by how many months of history there are.
    for (table, months) in [
        ("rollup_hist_decided", &["decided_month"][..]),
        ("rollup_hist_all", &[][..]),
    ] {
        let mut t = rollup_table(table);
        for c in months {
            t.col(string_len(*c, 7));
        }
        t.col(small_integer("measure"))
            .col(integer("value"))
            .col(big_integer("n"));
        let mut key = vec!["department", "area", "channel"];
        key.extend(months);
        key.extend(["measure", "value"]);
        primary(&mut t, &key);
        m.create_table(t).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        fact(m).await?;
        cell(m).await?;
        hist(m).await?;
        m.create_table(
            id_table("rollup_queue")
                .col(big_integer("case_id"))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let statements: &[&str] = match m.get_database_backend() {
            DbBackend::Postgres => &[
                "CREATE FUNCTION lots_rollup_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN INSERT INTO rollup_queue (case_id) VALUES (NEW.case_id); RETURN NULL; END $$",
                "CREATE TRIGGER case_touch_rollup AFTER INSERT OR UPDATE ON case_touch \
                 FOR EACH ROW EXECUTE FUNCTION lots_rollup_enqueue()",
            ],
            _ => &[
                "CREATE TRIGGER case_touch_rollup_insert AFTER INSERT ON case_touch \
                 BEGIN INSERT INTO rollup_queue (case_id) VALUES (NEW.case_id); END",
                "CREATE TRIGGER case_touch_rollup_update AFTER UPDATE ON case_touch \
                 BEGIN INSERT INTO rollup_queue (case_id) VALUES (NEW.case_id); END",
            ],
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        // The cases that exist now are brought up to date by the first worker.
        db.execute_unprepared(
            "INSERT INTO rollup_queue (case_id) SELECT id FROM case_record ORDER BY id",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let statements: &[&str] = match m.get_database_backend() {
            DbBackend::Postgres => &[
                "DROP TRIGGER IF EXISTS case_touch_rollup ON case_touch",
                "DROP FUNCTION IF EXISTS lots_rollup_enqueue()",
            ],
            _ => &[
                "DROP TRIGGER IF EXISTS case_touch_rollup_insert",
                "DROP TRIGGER IF EXISTS case_touch_rollup_update",
            ],
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        drop_tables(
            m,
            &[
                "rollup_queue",
                "rollup_hist_all",
                "rollup_hist_decided",
                "rollup_hist",
                "rollup_cell",
                "metric_fact",
            ],
        )
        .await
    }
}
