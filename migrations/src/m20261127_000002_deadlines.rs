//! The statutory clock's state on each case (kept current from its events, for filtering and
//! sorting by due date), and supplement requests.

use sea_orm_migration::{prelude::*, schema::*};

use crate::parts::{add_columns, drop_columns, drop_index, drop_tables, fk, id_table, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            m,
            "case_record",
            [
                date_null("due_date"),
                boolean("deadline_paused").default(false).take(),
                integer_null("extension_weeks"),
                date_null("decision_due_date"),
            ],
        )
        .await?;
        m.create_index(index("case_record", &["due_date"])).await?;

        m.create_table(
            id_table("supplement_request")
                .col(big_integer("case_id"))
                .col(text("message"))
                .col(timestamp_with_time_zone("requested_at"))
                .col(big_integer("requested_by"))
                .col(timestamp_with_time_zone_null("received_at"))
                .col(big_integer_null("received_by"))
                .foreign_key(&mut fk("supplement_request", "case_id", "case_record"))
                .foreign_key(&mut fk("supplement_request", "requested_by", "app_user"))
                .foreign_key(&mut fk("supplement_request", "received_by", "app_user"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("supplement_request", &["case_id"]))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(m, &["supplement_request"]).await?;
        drop_index(m, "case_record", &["due_date"]).await?;
        drop_columns(
            m,
            "case_record",
            &[
                "due_date",
                "deadline_paused",
                "extension_weeks",
                "decision_due_date",
            ],
        )
        .await
    }
}
