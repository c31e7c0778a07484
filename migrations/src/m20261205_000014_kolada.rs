//! Values imported from Kolada (the public database of municipal key figures): one row per KPI,
//! municipality (SCB's kommunkod), year and gender. A value Kolada flags (too few answers,
//! missing) is kept with its status and no value: missing, never zero.

use sea_orm_migration::{prelude::*, schema::*};

use crate::parts::{drop_tables, id_table, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            id_table("kolada_value")
                .col(string_len("kpi", 16))
                .col(string_len("municipality", 8))
                .col(integer("period"))
                // T (total), K, M.
                .col(string_len("gender", 2))
                .col(double_null("value"))
                .col(string_len_null("status", 40))
                .col(integer_null("count"))
                .col(timestamp_with_time_zone("imported_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_index(
            "kolada_value",
            &["kpi", "municipality", "period", "gender"],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(m, &["kolada_value"]).await
    }
}
