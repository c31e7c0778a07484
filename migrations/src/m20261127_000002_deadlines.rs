//! The statutory clock's state on each case (kept current from its events, for filtering and
//! sorting by due date), and supplement requests.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [
            date_null("due_date"),
            boolean("deadline_paused").default(false).take(),
            integer_null("extension_weeks"),
            date_null("decision_due_date"),
        ] {
            m.alter_table(
                Table::alter()
                    .table("case_record")
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("ix_case_record_due_date")
                .table("case_record")
                .col("due_date")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("supplement_request")
                .col(big_pk_auto("id"))
                .col(big_integer("case_id"))
                .col(text("message"))
                .col(timestamp_with_time_zone("requested_at"))
                .col(big_integer("requested_by"))
                .col(timestamp_with_time_zone_null("received_at"))
                .col(big_integer_null("received_by"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_supplement_request_case_id")
                        .from("supplement_request", "case_id")
                        .to("case_record", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_supplement_request_requested_by")
                        .from("supplement_request", "requested_by")
                        .to("app_user", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_supplement_request_received_by")
                        .from("supplement_request", "received_by")
                        .to("app_user", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_supplement_request_case_id")
                .table("supplement_request")
                .col("case_id")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("supplement_request").to_owned())
            .await?;
        m.drop_index(
            Index::drop()
                .name("ix_case_record_due_date")
                .table("case_record")
                .to_owned(),
        )
        .await?;
        for column in [
            "due_date",
            "deadline_paused",
            "extension_weeks",
            "decision_due_date",
        ] {
            m.alter_table(
                Table::alter()
                    .table("case_record")
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
