//! The linkage's rollups (docs/metrics.md, "Rollups"): what relates lead time to NKI, kept so
//! that the linkage reads sums, not every answered case.
//!
//! - `metric_fact` gains, per case, how many handoffs it had and how many departments an
//!   answered, decided case passed through (`handoffs`, `departments`), and `sample`: a fixed
//!   pseudo-random order of the cases (a hash of the id), in which Spearman's ρ and the scatter
//!   plot read a bounded sample per area (index `metric_fact_sample`, covering what it reads);
//!   and for the deadlines' lists, the instant of the decision (`decided_ms`) and whether the
//!   case is open (`is_open`), so that each list is read in its order from an index and stops
//!   at its limit.
//! - `rollup_link`: per cell, the answered, decided cases bucketed three ways (`measure` 0: lead
//!   time in whole calendar days, 1: departments passed through, 2: handoffs; `value`), with
//!   their NKI's and each factor's count, Σ and Σ² in millionths (integers, so that the coarser
//!   table below is kept by exact differences).
//! - `rollup_attr`: per cell and department passed through (`through`), those cases' count, the
//!   seconds they spent there and their lead times summed, and their answers' sums.
//! - `rollup_link_all`, `rollup_attr_all`: the same summed over the months.
//!
//! Every case is queued, so that the worker writes the new columns and rows.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::parts::{drop_tables, named_index, primary, queue_every_case, rollup_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

const MONTHS: [&str; 2] = ["received_month", "decided_month"];

/// A table keyed by the cell's columns (without its months unless `months`), then `key`, with
/// the answers' sums.
fn summed(table: &'static str, months: bool, key: &[(&'static str, bool)]) -> TableCreateStatement {
    let mut t = rollup_table(table);
    let mut pk = vec!["department", "area", "channel"];
    if months {
        for m in MONTHS {
            t.col(string_len(m, 7));
        }
        pk.extend(MONTHS);
    }
    for (c, text) in key {
        if *text {
            t.col(string_len(*c, 64));
        } else {
            t.col(integer(*c));
        }
        pk.push(*c);
    }
    t.col(big_integer("n"));
    for c in ["nki", "nki2"] {
        t.col(big_integer(c));
    }
    for f in 0..6 {
        for suffix in ["_n", "", "2"] {
            t.col(big_integer(Alias::new(format!("factor{f}{suffix}"))));
        }
    }
    primary(&mut t, &pk);
    t
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column a statement.
        for col in [
            integer_null("handoffs"),
            integer_null("departments"),
            big_integer("sample").default(0).to_owned(),
            big_integer_null("decided_ms"),
            small_integer("is_open").default(0).to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table("metric_fact")
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        // The sample's rows, in order, for each area: covering what the linkage reads of them
        // and filters them by, so that reading them touches no table row.
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX metric_fact_sample ON metric_fact \
                 (area, sample, department, received_ms, lead_seconds, nki) \
                 WHERE nki IS NOT NULL",
            )
            .await?;
        // The late decisions, the latest first (the fee reductions owed).
        m.create_index(named_index(
            "metric_fact_late",
            "metric_fact",
            &["area", "on_time", "decided_ms"],
        ))
        .await?;
        for (table, months) in [("rollup_link", true), ("rollup_link_all", false)] {
            m.create_table(summed(
                table,
                months,
                &[("measure", false), ("value", false)],
            ))
            .await?;
        }
        for (table, months) in [("rollup_attr", true), ("rollup_attr_all", false)] {
            let mut t = summed(table, months, &[("through", true)]);
            t.col(big_integer("spent")).col(big_integer("lead"));
            m.create_table(t).await?;
        }
        queue_every_case(m).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            m,
            &[
                "rollup_attr_all",
                "rollup_attr",
                "rollup_link_all",
                "rollup_link",
            ],
        )
        .await?;
        for index in ["metric_fact_late", "metric_fact_sample"] {
            m.drop_index(Index::drop().name(index).table("metric_fact").to_owned())
                .await?;
        }
        for col in ["is_open", "decided_ms", "sample", "departments", "handoffs"] {
            m.alter_table(
                Table::alter()
                    .table("metric_fact")
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
