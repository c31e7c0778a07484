//! The company's e-services: `e_service` holds each form as data (its steps and fields, in
//! JSON) that an admin changes without a release, and the department that receives what is
//! sent; `application_draft` keeps an application between the steps of a form (only the SHA-256
//! of the draft's token is stored; a signed-in representative's drafts carry their personnummer
//! so they can go on later); `case_record.channel` says how a case came in: `officer`
//! (registered by an officer), `e-service` or `import`.

use sea_orm_migration::{prelude::*, schema::*};

use crate::parts::{add_columns, drop_columns, drop_tables, fk, fk_cascade, id_table, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            id_table("e_service")
                .col(string_len_uniq("slug", 60))
                .col(string_len("area", 32))
                .col(string_len_null("case_type", 40))
                // Who receives the applications; an e-service without one is not published.
                .col(big_integer_null("department_id"))
                .col(string_len("title", 200))
                .col(string_len_null("title_en", 200))
                .col(text("summary"))
                .col(text_null("summary_en"))
                .col(json_binary("form"))
                .col(boolean("active").default(true))
                .col(integer("position").default(0))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer_null("updated_by"))
                .foreign_key(&mut fk("e_service", "department_id", "department"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("application_draft")
                // The SHA-256 (hex) of the draft's token, which only the applicant's cookie holds.
                .col(string_len("id", 64).primary_key())
                .col(big_integer("e_service_id"))
                .col(string_len_null("personal_number", 13))
                .col(json_binary("answers"))
                .col(json_binary("files"))
                .col(integer("step").default(0))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk_cascade(
                    "application_draft",
                    "e_service_id",
                    "e_service",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("application_draft", &["personal_number"]))
            .await?;
        add_columns(
            m,
            "case_record",
            [string_len("channel", 16).default("officer").take()],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(m, "case_record", &["channel"]).await?;
        drop_tables(m, &["application_draft", "e_service"]).await
    }
}
