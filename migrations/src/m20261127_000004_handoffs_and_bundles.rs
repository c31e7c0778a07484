//! Handoffs between departments (transfer, consultation, contact) and bundles (samordnade
//! ärenden) of one company's cases with a coordinator.

use sea_orm_migration::{prelude::*, schema::*};

use crate::parts::{drop_tables, fk, id_table, index, named_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            id_table("handoff")
                .col(big_integer("case_id"))
                .col(string_len("kind", 16))
                .col(string_len("status", 16))
                .col(big_integer("from_department_id"))
                .col(big_integer("to_department_id"))
                .col(text("message"))
                .col(text_null("response"))
                .col(text_null("decline_reason"))
                .col(date_null("due_date"))
                .col(big_integer("requested_by"))
                .col(timestamp_with_time_zone("requested_at"))
                .col(big_integer_null("accepted_by"))
                .col(timestamp_with_time_zone_null("accepted_at"))
                .col(big_integer_null("completed_by"))
                .col(timestamp_with_time_zone_null("completed_at"))
                .col(big_integer_null("closed_by"))
                .col(timestamp_with_time_zone_null("closed_at"))
                .col(big_integer("version"))
                .foreign_key(&mut fk("handoff", "case_id", "case_record"))
                .foreign_key(&mut fk("handoff", "from_department_id", "department"))
                .foreign_key(&mut fk("handoff", "to_department_id", "department"))
                .foreign_key(&mut fk("handoff", "requested_by", "app_user"))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("ix_handoff_case_id", &["case_id"][..]),
            ("ix_handoff_to_status", &["to_department_id", "status"]),
            ("ix_handoff_from_status", &["from_department_id", "status"]),
        ] {
            m.create_index(named_index(name, "handoff", cols)).await?;
        }

        m.create_table(
            id_table("bundle")
                .col(big_integer("company_id"))
                .col(string_len("title", 200))
                .col(big_integer("coordinator_id"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("bundle", "company_id", "company"))
                .foreign_key(&mut fk("bundle", "coordinator_id", "app_user"))
                .foreign_key(&mut fk("bundle", "created_by", "app_user"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("bundle_case")
                .col(big_integer("bundle_id"))
                .col(big_integer("case_id"))
                .col(big_integer("added_by"))
                .col(timestamp_with_time_zone("added_at"))
                .primary_key(Index::create().col("bundle_id").col("case_id"))
                .foreign_key(&mut fk("bundle_case", "bundle_id", "bundle"))
                .foreign_key(&mut fk("bundle_case", "case_id", "case_record"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("bundle_case", &["case_id"])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(m, &["bundle_case", "bundle", "handoff"]).await
    }
}
