//! When each case last changed, in the database's own clock: the metrics cache of a `lots`
//! process re-reads the cases touched since its last look instead of every case on every request.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::parts::{drop_tables, named_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("case_touch")
                .col(big_integer("case_id").primary_key())
                // Milliseconds since the Unix epoch, by the database server's clock.
                .col(big_integer("touched_ms"))
                .to_owned(),
        )
        .await?;
        m.create_index(named_index(
            "case_touch_touched_ms",
            "case_touch",
            &["touched_ms"],
        ))
        .await?;
        // Cases that exist before this migration count as touched now.
        let now = match m.get_database_backend() {
            sea_orm_migration::sea_orm::DbBackend::Postgres => {
                "(extract(epoch from clock_timestamp()) * 1000)::bigint"
            }
            _ => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
        };
        m.get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO case_touch (case_id, touched_ms) SELECT id, {now} FROM case_record"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(m, &["case_touch"]).await
    }
}
